import * as fs from "fs";
import * as path from "path";

// A dynamic provider whose closure cannot be serialized fails inside a promise and its resource is silently
// never registered (see the header of components/cluster/kindProvider.ts); make any such rejection fail the run.
process.on("unhandledRejection", (error) => {
    throw error;
});

const REPO = path.resolve(__dirname, "..");
let entriesBefore: Set<string>;

/**
 * A test writes its state, passphrases and renders into temporary folders, never into the repository: a new entry
 * at the repository's top (a `.pulumi-state/` from a backend that was not redirected, say) fails the run.
 */
export const mochaHooks = {
    beforeAll(): void {
        entriesBefore = new Set(fs.readdirSync(REPO));
    },
    afterAll(): void {
        const added = fs.readdirSync(REPO).filter((entry) => !entriesBefore.has(entry));
        if (added.length > 0) throw new Error(`the tests left ${added.join(", ")} in ${REPO}`);
    },
};
