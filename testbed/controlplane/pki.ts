/**
 * The control plane's certificates and kubeconfigs, made with openssl in its folder: a CA valid 7 days, the API
 * server's serving certificate, client certificates for the components and for the user.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

function openssl(dir: string, args: string[]): void {
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** A CA, the API server's serving certificate (127.0.0.1, localhost), an admin client certificate, a SA key pair. */
export function makeCertificates(dir: string, user: string): void {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(dir, ["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "7", "-subj", "/CN=test-ca"]);
    const sign = (name: string, subject: string, ext: string): void => {
        openssl(dir, ["req", "-new", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject]);
        fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
        openssl(dir, [
            "x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", `${name}.crt`, "-days", "7", "-extfile", `${name}.ext`,
        ]); // prettier-ignore
    };
    sign(
        "apiserver",
        "/CN=kube-apiserver",
        "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default," +
            "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\n",
    );
    sign("admin", "/O=system:masters/CN=kubernetes-admin", "extendedKeyUsage=clientAuth\n");
    // The user's own identity, apart from the components', so the audit log tells the user's requests apart.
    sign("user", `/O=system:masters/CN=${user}`, "extendedKeyUsage=clientAuth\n");
    openssl(dir, ["genrsa", "-out", "sa.key", "2048"]);
    openssl(dir, ["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"]);
}

/** A kubeconfig for the API server at `server` with the client certificate `cert` of `dir`. */
export function kubeconfigFor(dir: string, server: string, cert: "admin" | "user"): string {
    const b64 = (file: string): string => fs.readFileSync(path.join(dir, file)).toString("base64");
    return [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "  - name: controlplane",
        "    cluster:",
        `      server: ${server}`,
        `      certificate-authority-data: ${b64("ca.crt")}`,
        "users:",
        "  - name: admin",
        "    user:",
        `      client-certificate-data: ${b64(`${cert}.crt`)}`,
        `      client-key-data: ${b64(`${cert}.key`)}`,
        "contexts:",
        "  - name: controlplane",
        "    context: { cluster: controlplane, user: admin }",
        "current-context: controlplane",
        "",
    ].join("\n");
}
