/**
 * The parts every setting's schema is built from: zod types whose error is a rule's own words and whose metadata
 * (what is allowed, a computed default) the settings table reads. Pure.
 */
import { z } from "zod";
import * as rules from "./rules";
import type { Rule } from "./rules";

/** What the settings table shows for a setting besides its description: what it allows and a computed default. */
export interface SettingMeta {
    /** What is allowed, without the leading `must be`. */
    readonly allowed?: string;
    /** The default in words, for defaults computed from other settings. */
    readonly defaultText?: string;
}

/** A rule's words as the settings table shows them: what is allowed, without `must be`. */
export const allowedText = (allowed: string) => allowed.replace(/^must be /, "");
/** `schema` with the settings table's metadata. */
export const meta = <T extends z.ZodType>(schema: T, m: SettingMeta): T => schema.meta({ ...m }) as T;

/** A string setting judged by `rule`; the rule's words are its error. */
export function text(rule: Rule<string>) {
    return meta(z.string({ error: rule.allowed }).refine(rule.test, { error: rule.allowed }), {
        allowed: allowedText(rule.allowed),
    });
}

/** A whole-number setting from `min` to `max`. */
export function whole(min: number, max: number) {
    const rule = rules.wholeNumber(min, max);
    return meta(z.number({ error: rule.allowed }).refine(rule.test, { error: rule.allowed }), {
        allowed: allowedText(rule.allowed),
    });
}

/** One of `values`. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
    return meta(z.enum(values, { error: `must be one of ${values.join(", ")}` }), { allowed: values.join(" | ") });
}

/** A whole-number setting judged by `rule` (a range with words of its own). */
export function wholeBy(rule: Rule<number>) {
    return meta(z.number({ error: rule.allowed }).refine(rule.test, { error: rule.allowed }), {
        allowed: allowedText(rule.allowed),
    });
}

/** A true/false setting. */
export const flag = () => meta(z.boolean({ error: "must be true or false" }), { allowed: "true | false" });

/** A strict object: unknown keys are refused, and a non-object says which fields are expected. */
export function strictObject<Shape extends z.ZodRawShape>(shape: Shape) {
    return z.strictObject(shape, { error: `must be an object with the fields ${Object.keys(shape).join(", ")}` });
}

/** A list of `element`s. */
export const list = <T extends z.ZodType>(element: T, what: string) =>
    z.array(element, { error: `must be a list of ${what}` });
