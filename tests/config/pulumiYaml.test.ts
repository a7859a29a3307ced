import { strict as assert } from "node:assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import Ajv2020 from "ajv/dist/2020";
import { parseAllDocuments, parseDocument } from "yaml";
import { MINIMUM_PULUMI_CLI_VERSION, parseStackConfig, PROJECT, SETTING_NAMES, SETTINGS } from "../../config/schema";
import { STACK_FILE_KEYS, stackNames } from "../../config/stackFile";

const ROOT = path.resolve(__dirname, "../..");

/** Every YAML file git tracks, so a new stack file or workflow is covered the day it is added. */
function trackedYamlFiles(): string[] {
    return execFileSync("git", ["ls-files", "*.yaml", "*.yml"], { cwd: ROOT, encoding: "utf8" })
        .split("\n")
        .filter(Boolean);
}

/**
 * The file parsed as strictly as Pulumi's Go YAML does: any error, warning or repeated key fails. A stream of
 * several documents (a golden render) is parsed document by document, as kubectl reads it.
 */
function strictYaml(file: string): unknown {
    const docs = parseAllDocuments(fs.readFileSync(path.join(ROOT, file), "utf8"), {
        strict: true,
        uniqueKeys: true,
        prettyErrors: true,
    });
    const list = Array.isArray(docs) ? docs : [docs];
    const findings = list.flatMap((doc) => [...doc.errors, ...doc.warnings].map((e) => e.message));
    assert.deepEqual(findings, [], `${file} is not strict YAML`);
    return list[0]?.toJS();
}

/** Pulumi's own rules for `config:` declarations that the JSON schema cannot say (workspace/project.go, Validate). */
function pulumiConfigRules(config: Record<string, Record<string, unknown>>): string[] {
    const problems: string[] = [];
    for (const [key, declaration] of Object.entries(config)) {
        const namespaced = key.includes(":") && !key.startsWith(`${PROJECT}:`);
        if (namespaced && "type" in declaration) problems.push(`${key}: not the project's, may not define a type`);
        if (namespaced && "default" in declaration)
            problems.push(`${key}: not the project's, may not define a default`);
        if ("default" in declaration && "value" in declaration) problems.push(`${key}: both default and value`);
        if (declaration.type === "array" && !("items" in declaration)) problems.push(`${key}: array without items`);
    }
    return problems;
}

const project = () => strictYaml("Pulumi.yaml") as { config: Record<string, Record<string, unknown>> };

describe("YAML files git tracks", () => {
    const files = trackedYamlFiles();

    it("include Pulumi.yaml and every stack file", () => {
        for (const stack of stackNames()) assert.ok(files.includes(`Pulumi.${stack}.yaml`), `Pulumi.${stack}.yaml`);
        assert.ok(files.includes("Pulumi.yaml"));
    });

    for (const file of files) {
        it(`${file} parses as strict YAML, with unique keys`, () => {
            strictYaml(file);
        });
    }

    it("the strict parse refuses what Pulumi's parser refuses", () => {
        const parse = (text: string) => {
            const doc = parseDocument(text, { strict: true, uniqueKeys: true });
            return [...doc.errors, ...doc.warnings].length;
        };
        assert.ok(parse("description: a lab: Kind and Slurm\n") > 0, "an unquoted ': ' in a plain scalar");
        assert.ok(parse("name: a\nname: b\n") > 0, "a repeated key");
        assert.equal(parse('description: "a lab: Kind and Slurm"\n'), 0);
    });
});

describe("Pulumi.yaml", () => {
    it("validates against Pulumi's project schema (JSON Schema 2020-12, strict)", () => {
        const schema = JSON.parse(
            fs.readFileSync(path.join(ROOT, "tests/upstream/pulumi/project.schema.json"), "utf8"),
        );
        // Pulumi's schema requires `items` in a `then` branch whose properties are declared elsewhere, and uses
        // `if`/`then` without a `type` beside them: only those two strict checks are relaxed.
        const ajv = new Ajv2020({ strict: true, strictRequired: false, strictTypes: false, allErrors: true });
        const validate = ajv.compile(schema);
        assert.ok(validate(project()), ajv.errorsText(validate.errors));
    });

    it("follows Pulumi's rules for config declarations", () => {
        assert.deepEqual(pulumiConfigRules(project().config), []);
        assert.deepEqual(
            pulumiConfigRules({ "aws:region": { type: "string" } }).length,
            1,
            "the rule check itself works",
        );
    });

    it("declares the TypeScript nodejs runtime for project ai-hyperscaler", () => {
        const { name, runtime } = project() as unknown as { name: string; runtime: unknown };
        assert.equal(name, PROJECT);
        assert.deepEqual(runtime, { name: "nodejs", options: { typescript: true } });
    });

    it("declares exactly the program's settings, as objects, with the schema's descriptions", () => {
        const expected = Object.fromEntries(
            SETTING_NAMES.map((key) => [key, { type: "object", default: {}, description: SETTINGS[key].description }]),
        );
        assert.deepEqual(project().config, expected);
    });

    it("names the oldest Pulumi CLI that takes object settings (3.187.0), as the code does", () => {
        assert.equal(MINIMUM_PULUMI_CLI_VERSION, "3.187.0");
        const text = fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8");
        assert.ok(text.includes(`Pulumi CLI >= ${MINIMUM_PULUMI_CLI_VERSION}`));
    });

    it("gives each setting a default that means the same as leaving it out", () => {
        for (const [key, declaration] of Object.entries(project().config)) {
            assert.deepEqual(parseStackConfig({ [key]: declaration.default }), parseStackConfig({}), key);
        }
    });
});

describe("stack files (Pulumi.<stack>.yaml)", () => {
    for (const stack of stackNames()) {
        describe(stack, () => {
            const file = `Pulumi.${stack}.yaml`;
            const content = () => strictYaml(file) as Record<string, unknown>;

            it("has only keys a stack file may have", () => {
                for (const key of Object.keys(content())) assert.ok(STACK_FILE_KEYS.includes(key), `${file}: ${key}`);
            });

            it("sets only this project's declared settings", () => {
                const config = (content().config ?? {}) as Record<string, unknown>;
                for (const key of Object.keys(config)) {
                    const [namespace, name] = key.split(":", 2);
                    assert.equal(namespace, PROJECT, `${file}: ${key} is not ${PROJECT}:<setting>`);
                    assert.ok((SETTING_NAMES as string[]).includes(name), `${file}: ${key} is not a declared setting`);
                }
            });

            it("holds settings that pass parseStackConfig", () => {
                const config = (content().config ?? {}) as Record<string, unknown>;
                const settings = Object.fromEntries(Object.entries(config).map(([k, v]) => [k.split(":", 2)[1], v]));
                parseStackConfig(settings);
            });
        });
    }
});
