/**
 * Test helpers that hold Helm values built by this project against the upstream charts' own files, kept in
 * `tests/upstream/charts/` (copied unchanged from the charts; see that folder's README).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

/** `tests/upstream/charts`, where the upstream values.yaml and schemas live. */
export const CHARTS_DIR = path.resolve(__dirname, "..", "upstream", "charts");

/** The parsed YAML file `CHARTS_DIR/<file>`. */
export function loadChartYaml(file: string): unknown {
    return parse(fs.readFileSync(path.join(CHARTS_DIR, file), "utf8"));
}

/** The parsed JSON file `CHARTS_DIR/<file>`. */
export function loadChartJson(file: string): unknown {
    return JSON.parse(fs.readFileSync(path.join(CHARTS_DIR, file), "utf8"));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Dotted paths of keys in `values` that the chart's values.yaml (`upstream`) does not know. A key is known when
 * upstream has it; below an upstream map that is empty or null (`resources: {}`, `extraConfMap: {}`) keys are free.
 * `templates` maps a path whose keys the user names (`nodesets`) to the upstream path that holds the shape of each
 * entry (`nodesetDefaults`).
 */
export function unknownValueKeys(
    values: unknown,
    upstream: unknown,
    templates: Readonly<Record<string, string>> = {},
): string[] {
    const at = (root: unknown, dotted: string): unknown =>
        dotted.split(".").reduce<unknown>((node, key) => (isObject(node) ? node[key] : undefined), root);
    const problems: string[] = [];
    const walk = (value: unknown, shape: unknown, where: string): void => {
        if (!isObject(value)) {
            if (isObject(shape) && Object.keys(shape).length > 0)
                problems.push(`${where} (a map upstream, a ${typeof value} here)`);
            return;
        }
        const template = templates[where];
        if (template !== undefined) {
            const entry = at(upstream, template);
            if (entry === undefined) problems.push(`${where} (template ${template} missing upstream)`);
            for (const [key, child] of Object.entries(value)) walk(child, entry, `${where}.${key}`);
            return;
        }
        if (!isObject(shape) || Object.keys(shape).length === 0) {
            if (shape !== undefined && shape !== null && !isObject(shape))
                problems.push(`${where} (a ${typeof shape} upstream, a map here)`);
            return;
        }
        for (const [key, child] of Object.entries(value)) {
            const path = where ? `${where}.${key}` : key;
            if (!(key in shape)) problems.push(path);
            else walk(child, shape[key], path);
        }
    };
    walk(values, upstream, "");
    return problems;
}

/** Every dotted leaf path of `values` (for "this test touched every key it sets"). */
export function leafPaths(values: unknown, where = ""): string[] {
    if (!isObject(values) || Object.keys(values).length === 0) return [where];
    return Object.entries(values).flatMap(([key, child]) => leafPaths(child, where ? `${where}.${key}` : key));
}

type JsonSchema = Record<string, unknown>;

/**
 * Problems of `value` against a JSON Schema (the subset vCluster's schema uses: `$ref` into `$defs`, `type`,
 * `properties`, `additionalProperties`, `items`, `enum`, `anyOf`/`oneOf`). Enough to catch a misspelt key or a
 * wrong type; not a full validator.
 */
export function schemaProblems(
    value: unknown,
    schema: JsonSchema,
    root: JsonSchema = schema,
    where = "(root)",
): string[] {
    if (typeof schema.$ref === "string") {
        const name = schema.$ref.replace(/^#\/\$defs\//, "");
        const target = (root.$defs as Record<string, JsonSchema> | undefined)?.[name];
        if (!target) return [`${where}: unresolvable $ref ${schema.$ref}`];
        return schemaProblems(value, target, root, where);
    }
    for (const union of ["anyOf", "oneOf"] as const) {
        const options = schema[union] as JsonSchema[] | undefined;
        if (options && !options.some((o) => schemaProblems(value, o, root, where).length === 0)) {
            return [`${where}: matches none of ${union}`];
        }
    }
    if (Array.isArray(schema.enum) && !schema.enum.includes(value))
        return [`${where}: ${JSON.stringify(value)} not in enum`];
    const types =
        schema.type === undefined
            ? []
            : Array.isArray(schema.type)
              ? (schema.type as string[])
              : [schema.type as string];
    if (types.length > 0 && !types.some((t) => hasType(value, t)))
        return [`${where}: expected ${types.join("|")}, got ${JSON.stringify(value)}`];

    const problems: string[] = [];
    if (isObject(value)) {
        const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
        for (const [key, child] of Object.entries(value)) {
            const path = where === "(root)" ? key : `${where}.${key}`;
            if (key in properties) problems.push(...schemaProblems(child, properties[key], root, path));
            else if (schema.additionalProperties === false) problems.push(`${path}: not allowed by the schema`);
            else if (isObject(schema.additionalProperties))
                problems.push(...schemaProblems(child, schema.additionalProperties, root, path));
        }
    }
    if (Array.isArray(value) && isObject(schema.items)) {
        value.forEach((item, i) =>
            problems.push(...schemaProblems(item, schema.items as JsonSchema, root, `${where}[${i}]`)),
        );
    }
    return problems;
}

function hasType(value: unknown, type: string): boolean {
    switch (type) {
        case "object":
            return isObject(value);
        case "array":
            return Array.isArray(value);
        case "string":
            return typeof value === "string";
        case "boolean":
            return typeof value === "boolean";
        case "integer":
            return Number.isInteger(value);
        case "number":
            return typeof value === "number";
        case "null":
            return value === null;
        default:
            return true;
    }
}
