/**
 * The one file check of the settings (I/O, so apart from the pure schema): `cluster.kubeconfigPath` must name a
 * file this user can read. The Kubernetes provider takes a string that is not a readable file as kubeconfig
 * CONTENTS, so a mistyped path would otherwise fail late and obscurely.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** `~/x` as the provider expands it (the user's home), other paths resolved from the working directory. */
export function expandHome(file: string, home = os.homedir()): string {
    return file === "~" || file.startsWith("~/") ? path.join(home, file.slice(1)) : path.resolve(file);
}

/** What is wrong with `file` as a kubeconfig path, or undefined when it is a readable regular file. */
export function readableFile(file: string): string | undefined {
    const full = expandHome(file);
    try {
        if (!fs.statSync(full).isFile()) return `must be a readable kubeconfig file; ${full} is not a regular file`;
        fs.accessSync(full, fs.constants.R_OK);
        return undefined;
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const why =
            code === "ENOENT"
                ? "does not exist"
                : code === "EACCES"
                  ? "is not readable by this user"
                  : `cannot be read (${code})`;
        return `must be a readable kubeconfig file; ${full} ${why}`;
    }
}
