import * as pulumi from "@pulumi/pulumi";
import { SecretWaitInputs, secretWaitProvider } from "./secretWaitProvider";

/** Inputs of {@link SecretWait}: those of {@link SecretWaitInputs}, each of which may be an Output. */
export type SecretWaitArgs = { readonly [K in keyof SecretWaitInputs]: pulumi.Input<SecretWaitInputs[K]> };

/**
 * Waits (bounded) at create until a Secret exists, through {@link secretWaitProvider}; waits again when `source`
 * (what writes the Secret) is new, and looks again on refresh. Its id is `<namespace>/<name>`; `value` is the
 * decoded `readKey` when one was asked for, and is secret.
 */
export class SecretWait extends pulumi.dynamic.Resource {
    /** `<namespace>/<name>` of the Secret that now exists. */
    declare readonly secretId: pulumi.Output<string>;
    /** The Secret's uid: new when the Secret was made anew (a new install of what writes it). */
    declare readonly secretUid: pulumi.Output<string>;
    /** The decoded value of `readKey` (secret); undefined when no key was asked for. */
    declare readonly value: pulumi.Output<string | undefined>;

    constructor(name: string, args: SecretWaitArgs, opts?: pulumi.CustomResourceOptions) {
        // Outputs the provider adds must be named here (as undefined) for Pulumi to expose them.
        super(
            secretWaitProvider,
            name,
            { ...args, secretId: undefined, secretUid: undefined, polls: undefined, value: undefined },
            {
                ...opts,
                // The kubeconfig input and a value read from a Secret must stay encrypted in the state.
                additionalSecretOutputs: ["kubeconfig", "value"],
            },
        );
    }
}
