// Times as the reducer compares them: RFC 3339 with any offset, normalised to one UTC string
// with six fraction digits ("canonical"), so that string order is time order, exactly as the
// Python reducer orders its microsecond datetimes (extra digits are truncated, like Python).

const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d\d):(\d\d))$/;

/** `text` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC; throws on anything but RFC 3339 with offset. */
export function canonicalTime(text: string): string {
  const m = RFC3339.exec(text);
  if (!m) throw new TypeError(`occurredAt: not an RFC 3339 timestamp with offset: ${text}`);
  const n = (i: number): number => Number(m[i] ?? 0);
  const date = new Date(0);
  date.setUTCFullYear(n(1), n(2) - 1, n(3));
  date.setUTCHours(n(4), n(5), n(6), 0);
  const offset = m[8] ? (m[8] === "-" ? -1 : 1) * (n(9) * 60 + n(10)) : 0;
  const utc = new Date(date.getTime() - offset * 60_000);
  return `${utc.toISOString().slice(0, 19)}.${(m[7] ?? "").padEnd(6, "0").slice(0, 6)}Z`;
}

/** A canonical time as the API prints it: the fraction only when it is not zero. */
export function apiTime(canonical: string): string {
  return canonical.endsWith(".000000Z") ? `${canonical.slice(0, 19)}Z` : canonical;
}

/** Whole days from UTC day `a` to UTC day `b` (both `YYYY-MM-DD`). */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}
