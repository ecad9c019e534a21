// RFC 8785 (JSON Canonicalization Scheme) over values from JSON.parse: the ledger hashes each event's canonical form.
// JSON.stringify already writes strings (§3.2.2.2) and numbers (§3.2.2.3, ECMAScript Number-to-String) the way JCS
// requires; what is left is sorting object members by their UTF-16 code units (§3.2.3) and leaving out whitespace.

/** The canonical JSON text of `value` (RFC 8785). */
export function canonicalize(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new Error("a number without a canonical form (NaN or Infinity)");
    }

    return JSON.stringify(value);
  }

  if (Array.isArray(value)) {
    return `[${value.map(canonicalize).join(",")}]`;
  }

  // Default sort compares UTF-16 code units, as §3.2.3 asks.
  const keys = Object.keys(value).sort();
  const members = keys.map((key) => `${JSON.stringify(key)}:${canonicalize((value as Record<string, unknown>)[key])}`);
  return `{${members.join(",")}}`;
}
