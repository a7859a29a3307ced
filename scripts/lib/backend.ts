/**
 * Where the Automation API keeps a stack's state, and the passphrase that encrypts its secrets.
 *
 * The Automation API always runs the Pulumi CLI non-interactively, so a user who never ran `pulumi login` gets
 * "PULUMI_ACCESS_TOKEN must be set" and a file backend without a passphrase gets "passphrase must be set". Unless
 * the user chose a backend (PULUMI_BACKEND_URL, a `pulumi login`, or an access token), the stack lives in a
 * project-local file backend, `.pulumi-state/` (git-ignored), with a passphrase generated once into that folder.
 * Everything travels in the workspace's environment (`envVars`); nothing here changes `process.env`.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";

/** The repository root: the Pulumi project's directory. */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** Folder (under the project) of the local file backend; `file://<project>/.pulumi-state`. */
export const LOCAL_STATE_DIR = ".pulumi-state";

/** The generated passphrase's file name inside {@link LOCAL_STATE_DIR}. */
export const PASSPHRASE_FILE = "passphrase";

/** How the stack's backend was chosen, for the one line that tells the user. */
export interface BackendChoice {
    /** Variables to add to the Pulumi CLI's environment (the workspace's `envVars`). */
    readonly envVars: Record<string, string>;
    /** One sentence for the user: which backend, and where the passphrase comes from. */
    readonly description: string;
}

/**
 * The backend the user chose, or undefined, looked up as the Pulumi CLI does (Pulumi.yaml sets no `backend`):
 * PULUMI_BACKEND_URL, then the `current` entry of the CLI's credentials file (what `pulumi login` writes, in
 * $PULUMI_CREDENTIALS_PATH, $PULUMI_HOME or ~/.pulumi), then PULUMI_ACCESS_TOKEN (the CLI logs in to Pulumi
 * Cloud with it by itself).
 */
export function chosenBackend(env: NodeJS.ProcessEnv, home = os.homedir()): string | undefined {
    if (env.PULUMI_BACKEND_URL) return env.PULUMI_BACKEND_URL;
    const folder = env.PULUMI_CREDENTIALS_PATH || env.PULUMI_HOME || path.join(home, ".pulumi");
    try {
        const credentials = JSON.parse(fs.readFileSync(path.join(folder, "credentials.json"), "utf8"));
        if (typeof credentials?.current === "string" && credentials.current !== "") return credentials.current;
    } catch {
        // No credentials file, or one the CLI would not read either: not logged in.
    }
    return env.PULUMI_ACCESS_TOKEN ? "https://api.pulumi.com" : undefined;
}

/**
 * The environment the Pulumi CLI needs for this project: nothing when the user chose a backend; otherwise the
 * project-local file backend, and the user's passphrase (PULUMI_CONFIG_PASSPHRASE, even empty, or
 * PULUMI_CONFIG_PASSPHRASE_FILE) or else one generated once (32 random bytes, hex, mode 0600) and reused.
 */
export function backendFor(root: string, env: NodeJS.ProcessEnv, home = os.homedir()): BackendChoice {
    return chooseBackend(root, env, home, true);
}

/**
 * The backend and passphrase of {@link backendFor} for a script that only reads a stack (verify): it never writes
 * state or a passphrase. A generated passphrase made for someone else's state would be a wrong one beside it (a
 * user who ran `up` with their own PULUMI_CONFIG_PASSPHRASE and forgot it later), so without one it throws, saying
 * what is missing.
 */
export function existingBackendFor(root: string, env: NodeJS.ProcessEnv, home = os.homedir()): BackendChoice {
    return chooseBackend(root, env, home, false);
}

function chooseBackend(root: string, env: NodeJS.ProcessEnv, home: string, generate: boolean): BackendChoice {
    const chosen = chosenBackend(env, home);
    if (chosen !== undefined) {
        return { envVars: {}, description: `state in your Pulumi backend ${chosen}` };
    }
    const stateDir = path.join(root, LOCAL_STATE_DIR);
    const envVars: Record<string, string> = { PULUMI_BACKEND_URL: `file://${stateDir}` };
    const where = `state in ${LOCAL_STATE_DIR}/ (no \`pulumi login\` and no PULUMI_BACKEND_URL)`;
    if (env.PULUMI_CONFIG_PASSPHRASE !== undefined || env.PULUMI_CONFIG_PASSPHRASE_FILE) {
        return { envVars, description: `${where}, secrets encrypted with your passphrase` };
    }
    const passphraseFile = path.join(stateDir, PASSPHRASE_FILE);
    if (!fs.existsSync(passphraseFile)) {
        if (!generate) throw new Error(missingPassphrase(stateDir));
        fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
        // "wx": never overwrite a passphrase that appeared meanwhile; the state it encrypts would be lost.
        fs.writeFileSync(passphraseFile, randomBytes(32).toString("hex"), { mode: 0o600, flag: "wx" });
    }
    envVars.PULUMI_CONFIG_PASSPHRASE_FILE = passphraseFile;
    return {
        envVars,
        description: `${where}, secrets encrypted with the passphrase in ${LOCAL_STATE_DIR}/${PASSPHRASE_FILE}`,
    };
}

/** What a read-only script says when the project-local backend has no passphrase it may use. */
function missingPassphrase(stateDir: string): string {
    const local = `${LOCAL_STATE_DIR}/${PASSPHRASE_FILE}`;
    if (!fs.existsSync(stateDir)) {
        return (
            `no stack has been brought up here: ${LOCAL_STATE_DIR}/ does not exist, and neither PULUMI_BACKEND_URL ` +
            "nor a `pulumi login` names another backend; run `npm run up -- <stack>` first, or set " +
            "PULUMI_BACKEND_URL (and the passphrase) of the backend that holds the stack"
        );
    }
    return (
        `no passphrase for the state in ${LOCAL_STATE_DIR}/: PULUMI_CONFIG_PASSPHRASE and ` +
        `PULUMI_CONFIG_PASSPHRASE_FILE are not set and ${local} does not exist; set one of them to the ` +
        "passphrase the stack was brought up with (nothing here makes one: a new passphrase could not read the state)"
    );
}

/** What {@link openStack} returns: the selected (or new) stack and how its backend was chosen. */
export interface OpenedStack {
    /** The Automation API stack, selected in a workspace whose `envVars` carry the backend and passphrase. */
    readonly stack: Stack;
    /** The backend decision, for a line of output. */
    readonly backend: BackendChoice;
}

/**
 * Selects the stack `stackName` of this project (creating it when it does not exist) with the backend and
 * passphrase of {@link backendFor}, and `extraEnv` for the CLI and its providers. Every script that changes a stack
 * (up, preview, destroy) opens it here.
 */
export async function openStack(
    stackName: string,
    root = REPO_ROOT,
    env = process.env,
    extraEnv: Record<string, string> = {},
): Promise<OpenedStack> {
    const backend = backendFor(root, env);
    const envVars = { ...backend.envVars, ...extraEnv };
    const stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir: root }, { envVars });
    return { stack, backend };
}

/**
 * Selects the existing stack `stackName` with the same backend and passphrase as {@link openStack}, and never
 * creates one, nor any state or passphrase ({@link existingBackendFor}): for scripts that read a deployed stack
 * (verify), where a missing stack or passphrase is the user's to fix.
 */
export async function selectStack(stackName: string, root = REPO_ROOT, env = process.env): Promise<OpenedStack> {
    const backend = existingBackendFor(root, env);
    const stack = await LocalWorkspace.selectStack({ stackName, workDir: root }, { envVars: backend.envVars });
    return { stack, backend };
}
