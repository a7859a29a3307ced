/**
 * The settings table (`npm run settings`, `config/SETTINGS.md`), generated from the schemas in
 * `config/settings.ts`: each field's dotted path, what it allows, its default and its description.
 */
import { z } from "zod";
import { unwrap } from "./errors";
import type { SettingMeta } from "./schemaParts";
import { SETTING_NAMES, SETTINGS } from "./settings";

/** One row of the settings table. */
export interface SettingRow {
    /** Dotted path: `slurm.compute.replicas`; list elements as `slurm.partitions[].name`. */
    readonly setting: string;
    /** What is allowed. */
    readonly allowed: string;
    /** The default, or `(none)`. */
    readonly default: string;
    /** The schema's description. */
    readonly description: string;
}

/** Every field as a row, in schema order; objects and lists of objects are followed by their fields. */
export function settingRows(): SettingRow[] {
    const rows: SettingRow[] = [];
    for (const key of SETTING_NAMES) walk(SETTINGS[key], key, rows);
    return rows;
}

/** The row of a union's `type`: every variant's value; the first variant is the default. */
function discriminatorRow(setting: string, variants: z.ZodObject[]): SettingRow {
    const types = variants.map((v) => String((v.shape.type as z.ZodLiteral).value));
    return {
        setting,
        allowed: types.join(" | "),
        default: types[0],
        description: variants.map((v) => descriptionOf(v.shape.type as z.ZodType)).join(" "),
    };
}

function walk(schema: z.ZodType, setting: string, rows: SettingRow[], prefix = ""): void {
    const inner = unwrap(schema);
    const variants = inner instanceof z.ZodDiscriminatedUnion ? (inner.options as z.ZodObject[]) : undefined;
    const object = inner instanceof z.ZodObject ? inner : undefined;
    const element = inner instanceof z.ZodArray ? unwrap(inner.element as z.ZodType) : undefined;
    if (variants || object) {
        const shapes: z.ZodRawShape[] = variants ? variants.map((v) => v.shape) : [object!.shape];
        const seen = new Set<string>();
        for (const shape of shapes) {
            for (const [field, child] of Object.entries(shape)) {
                if (seen.has(field)) continue;
                seen.add(field);
                if (field === "type" && variants) {
                    rows.push(discriminatorRow(`${setting}.type`, variants));
                } else {
                    const owners = (variants ?? []).filter((v) => field in v.shape).map((v) => v.shape.type.value);
                    const only = variants && owners.length < variants.length ? `(type ${owners.join(", ")} only) ` : "";
                    walk(child as z.ZodType, `${setting}.${field}`, rows, only);
                }
            }
        }
        return;
    }
    rows.push({
        setting,
        allowed: element instanceof z.ZodObject ? "list of objects (fields below)" : allowedOf(schema),
        default: defaultOf(schema),
        description: prefix + descriptionOf(schema),
    });
    if (element instanceof z.ZodObject) walk(element, `${setting}[]`, rows);
}

/** The metadata of every layer of `schema` (outer layers win), merged. */
function metaOf(schema: z.ZodType): SettingMeta & { description?: string } {
    const layers: z.ZodType[] = [];
    for (let s: z.ZodType | undefined = schema; s;) {
        layers.push(s);
        s =
            s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodPrefault
                ? (s.unwrap() as z.ZodType)
                : undefined;
    }
    return Object.assign({}, ...layers.reverse().map((s) => s.meta() ?? {}));
}

function allowedOf(schema: z.ZodType): string {
    return metaOf(schema).allowed ?? "(see description)";
}

function defaultOf(schema: z.ZodType): string {
    const computed = metaOf(schema).defaultText;
    if (computed) return computed;
    for (let s: z.ZodType = schema; ; s = s.unwrap() as z.ZodType) {
        if (s instanceof z.ZodDefault) {
            const value: unknown = s.def.defaultValue;
            return typeof value === "string" ? value : JSON.stringify(value);
        }
        if (!(s instanceof z.ZodOptional || s instanceof z.ZodPrefault)) return "(none)";
    }
}

function descriptionOf(schema: z.ZodType): string {
    return metaOf(schema).description ?? "";
}

/** A table cell: pipes escaped, and `<`/`>` outside code spans escaped so Markdown shows `<port>` as text. */
const cell = (text: string) =>
    text
        .replace(/\|/g, "\\|")
        .split("`")
        .map((part, i) => (i % 2 === 0 ? part.replace(/[<>]/g, (c) => `\\${c}`) : part))
        .join("`");

/** The settings as a Markdown table: setting, type/allowed, default, description. */
export function settingsTable(): string {
    const lines = ["| setting | type / allowed | default | description |", "|---|---|---|---|"];
    for (const row of settingRows()) {
        lines.push(`| \`${row.setting}\` | ${cell(row.allowed)} | ${cell(row.default)} | ${cell(row.description)} |`);
    }
    return lines.join("\n");
}

/** `config/SETTINGS.md`: a heading, how to set a field, and the table. */
export function settingsDocument(): string {
    return [
        "# Settings",
        "",
        "Generated from `config/settings.ts` by `npm run -s settings:write`; a test keeps this file equal to it.",
        "Each setting is the value of `ai-hyperscaler:<setting>` in `Pulumi.<stack>.yaml`; set a field with",
        "`pulumi config set --path slurm.compute.replicas 4`.",
        "",
        settingsTable(),
        "",
    ].join("\n");
}
