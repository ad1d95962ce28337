// The builders' checks: a payload against its rule, generated from the same contract schema
// as the server's (scripts/generate-events.mjs), so a bad value fails where it is written,
// naming the field, instead of being refused by the server later.

/** A compact schema rule (see `rule()` in scripts/generate-events.mjs for the letters). */
export interface Rule {
  t: "s" | "d" | "n" | "b" | "e" | "o" | "a" | "f";
  n?: 1;
  l?: number;
  h?: number;
  w?: 1;
  e?: readonly unknown[];
  i?: Rule;
  f?: Record<string, Rule>;
  r?: readonly string[];
}

/** A value the contract does not allow; `field` names it (e.g. `payload.rating`). */
export class ValidationError extends TypeError {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = "ValidationError";
  }
}

const DATE = /^\d{4}-\d\d-\d\d$/;

/** `value` if it satisfies `rule`; else throws a `ValidationError` naming the field. */
export function checked<T>(rule: Rule, value: T, field = "payload"): T {
  const fail = (reason: string): never => {
    throw new ValidationError(field, reason);
  };
  const within = (n: number, what: string): void => {
    if (rule.l !== undefined && n < rule.l) fail(`${what} at least ${rule.l}`);
    if (rule.h !== undefined && n > rule.h) fail(`${what} at most ${rule.h}`);
  };
  if (value === null || value === undefined) {
    if (value === null && rule.n) return value;
    return fail("must be given");
  }
  switch (rule.t) {
    case "s":
      if (typeof value !== "string") return fail("must be a string");
      within([...value].length, "length");
      if (rule.w && /\s/.test(value)) fail("must not contain whitespace");
      break;
    case "d":
      if (typeof value !== "string" || !DATE.test(value) || Number.isNaN(Date.parse(value))) fail("must be a date (YYYY-MM-DD)");
      break;
    case "n":
      if (typeof value !== "number" || !Number.isFinite(value)) return fail("must be a finite number");
      within(value, "value");
      break;
    case "b":
      if (typeof value !== "boolean") fail("must be true or false");
      break;
    case "e":
      if (!rule.e?.includes(value)) fail(`must be one of ${rule.e?.join(", ")}`);
      break;
    case "a":
      if (!Array.isArray(value)) return fail("must be an array");
      within(value.length, "items");
      value.forEach((item, n) => checked(rule.i as Rule, item, `${field}[${n}]`));
      break;
    default: {
      if (typeof value !== "object" || Array.isArray(value)) return fail("must be an object");
      if (rule.t === "o") break;
      const fields = rule.f ?? {};
      const given = value as Record<string, unknown>;
      for (const name of rule.r ?? []) if (given[name] === undefined) throw new ValidationError(`${field}.${name}`, "must be given");
      for (const [name, item] of Object.entries(given)) {
        const inner = fields[name];
        if (inner === undefined) throw new ValidationError(`${field}.${name}`, "is not a field of this event");
        if (item !== undefined) checked(inner, item, `${field}.${name}`);
      }
    }
  }
  return value;
}
