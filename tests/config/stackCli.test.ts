import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { pulumiCommand, shellWord, stackCli } from "../../config/stackCli";

describe("stackCli and pulumiCommand (how a pasted pulumi command finds the stack)", () => {
    it("repeats the backend URL and passphrase file, never a passphrase or token", () => {
        const cli = stackCli("dev", {
            PULUMI_CONFIG_PASSPHRASE_FILE: "/lab/.pulumi-state/passphrase",
            PULUMI_BACKEND_URL: "file:///lab/.pulumi-state",
            PULUMI_CONFIG_PASSPHRASE: "hunter2",
            PULUMI_ACCESS_TOKEN: "pul-123",
            HOME: "/root",
        });
        assert.deepEqual(cli, {
            stack: "dev",
            env: {
                PULUMI_BACKEND_URL: "file:///lab/.pulumi-state",
                PULUMI_CONFIG_PASSPHRASE_FILE: "/lab/.pulumi-state/passphrase",
            },
        });
        assert.equal(
            pulumiCommand(cli, "stack output <name> --show-secrets"),
            "PULUMI_BACKEND_URL=file:///lab/.pulumi-state PULUMI_CONFIG_PASSPHRASE_FILE=/lab/.pulumi-state/passphrase " +
                "pulumi stack output <name> --show-secrets --stack dev",
        );
    });

    it("adds nothing for a backend the user is logged in to (no variables, or empty ones)", () => {
        assert.equal(
            pulumiCommand(stackCli("gpu", { PULUMI_BACKEND_URL: "" }), "stack output kubeconfig"),
            "pulumi stack output kubeconfig --stack gpu",
        );
    });

    it("quotes a value a shell would split or expand, so it arrives as it is", () => {
        for (const value of ["file:///home/me/my lab/.pulumi-state", "/tmp/it's $HOME/p", "a;b", "*"]) {
            assert.equal(execFileSync("bash", ["-c", `printf %s ${shellWord(value)}`], { encoding: "utf8" }), value);
        }
        assert.equal(shellWord("file:///lab/.pulumi-state"), "file:///lab/.pulumi-state");
        assert.equal(shellWord("my lab"), "'my lab'");
    });
});
