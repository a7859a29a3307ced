/**
 * The typed stack configuration, as the rest of the program imports it: the settings and their types
 * (`config/settings.ts`), `parseStackConfig` (`config/parse.ts`), {@link ConfigError} (`config/errors.ts`) and
 * the Kind cluster's host ports and loaded images (`config/resolve.ts`). Pure: no Pulumi here; `config/index.ts`
 * reads `pulumi.Config`.
 */
export * from "./settings";
export { ConfigError } from "./errors";
export { parseStackConfig } from "./parse";
export type { ParseOptions } from "./parse";
export { kindLoadedImages, kindPortMappings, slurmPortMappings, tenantPortMappings } from "./resolve";
