export { readStackSettings } from "../config/stackFile";
