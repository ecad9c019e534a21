using System.Globalization;
using System.Text;
using System.Text.Json;
using CsCheck;

namespace AuditStream.Fuzz.Tests;

/// <summary>
/// CsCheck generators: structured inputs (JSON built from the fields and edge values the parsers care about) and
/// mutations of the seed corpus (bit flips, byte edits, token insertions, truncation, duplication, splicing).
/// </summary>
internal static class FuzzInputs
{
    /// <summary>Fragments that break parsers: structure, escapes, lone surrogates, extreme numbers, separators.</summary>
    private static readonly string[] s_tokens =
    [
        "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u0000", "\\ud800", "\\udc00\\ud800", "\\u00e9", "\u00e9", "\U0001F600",
        "1e400", "-1e-400", "-0", "0.1", "1E+2", "5e-324", "9007199254740993", "123456789012345678901234567890", "NaN",
        "null", "true", "false", "\n", "\r\n", "\t", " ", "//", "/*", "\u2028", "\uFEFF", "\"\":", "{\"\":{}}", "[[[[[[[[",
        "\"type\":", "\"pii\":", "\"metadata\":", "\"occurred_at\":", "\"seq\":", "\"hash\":", "\"filters\":", "\"match\":",
        "0001-01-01T00:00:00-01:00", "9999-12-31T23:59:59.9999999+00:00", "2026-02-30T00:00:00Z", "%", "&", "=", "::",
    ];

    private static readonly string[] s_strings =
    [
        "", " ", "a", "data.accessed", "auth.login.failed", "x.", ".x", "a..b", "A.B", "info", "warning", "error", "critical",
        "debug", "INFO", "security", "data", "auth", "user-1", "acme", "other", "*", "success", "failure", "read",
        "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.123456789+14:00", "0001-01-01T00:00:00-01:00", "9999-12-31T23:59:59Z",
        "2026-13-01T00:00:00Z", "2026-01-01", "1h", "24h", "7d", "30d", "2d", "0", "1", "true", "false", "yes",
        "00000000-0000-0000-0000-000000000000", "0198c6a4-0000-7000-8000-000000000001", "not-a-guid", "[masked]", "[erased]",
        "metadata.region", "metadata.a.b.c", "metadata.", "severity", "source.ip", "eq", "neq", "in", "prefix", "exists", "gt", "lt",
        "\u0000", "\u001f", "\u007f", "\u00e9t\u00e9", "\u65e5\u672c", "\U0001F600", "\uD800", "\uFFFF", "a\u2028b", new string('x', 300),
    ];

    private static readonly string[] s_numbers =
    [
        "0", "-0", "1", "-1", "0.5", "1.0", "1e2", "1E-7", "1e21", "1e400", "-1e400", "5e-324", "1.7976931348623157e308",
        "9007199254740991", "9007199254740993", "-9223372036854775808", "18446744073709551616", "0.1", "100", "3.141592653589793",
    ];

    private static readonly string[] s_eventFields =
    [
        "id", "type", "severity", "category", "actor_id", "actor_type", "target_id", "target_type", "action", "outcome",
        "occurred_at", "tenant_id", "subject_id", "pii", "pii_envelope", "source", "metadata", "compliance", "seq", "timestamp",
        "prev_hash", "hash", "service", "ip", "user_agent", "request_id", "trace_id", "unknown", "",
    ];

    private static readonly string[] s_queryKeys =
    [
        "event_types", "severities", "categories", "actor_ids", "target_ids", "start", "end", "relative", "compliance_only",
        "security_only", "match", "filters", "limit", "cursor", "unknown",
    ];

    public static readonly Gen<string> Text = Gen.Frequency((3, Gen.OneOf(s_strings)), (1, Gen.String), (1, Gen.String[Gen.Char.AlphaNumeric, 0, 12]));

    public static readonly Gen<string> JsonString = Gen.Frequency(
        (6, Text.Select(s => JsonSerializer.Serialize(s))),
        (1, Gen.OneOf("\"\\ud800\"", "\"\\udc00\"", "\"\\u0000\"", "\"\\/\"", "\"\\uD83D\\uDE00\"", "\"\u00e9\"", "\"\\x\"", "\"unterminated")));

    public static readonly Gen<string> JsonNumber = Gen.Frequency(
        (3, Gen.OneOf(s_numbers)),
        (2, Gen.Long.Select(l => l.ToString(CultureInfo.InvariantCulture))),
        (2, Gen.Double.Where(double.IsFinite).Select(d => d.ToString("R", CultureInfo.InvariantCulture))));

    public static readonly Gen<string> Scalar = Gen.Frequency(
        (4, JsonString), (2, JsonNumber), (1, Gen.OneOf("true", "false", "null")));

    /// <summary>Any JSON value, nested up to <paramref name="depth"/> levels, with duplicate keys now and then.</summary>
    public static Gen<string> Value(int depth) => depth == 0
        ? Scalar
        : Gen.Frequency(
            (5, Scalar),
            (1, Value(depth - 1).List[0, 5].Select(items => "[" + string.Join(',', items) + "]")),
            (2, Gen.Select(Gen.Frequency((3, JsonString), (1, Gen.OneOf("\"a\"", "\"A\"", "\"\""))), Value(depth - 1)).List[0, 6]
                .Select(members => "{" + string.Join(',', members.Select(m => m.Item1 + ":" + m.Item2)) + "}")));

    /// <summary>Plausible values per event field (mostly valid, sometimes the wrong type).</summary>
    private static Gen<string> FieldValue(string field) => field switch
    {
        "metadata" or "pii" or "source" => Gen.Frequency((4, Value(3)), (1, Scalar)),
        "compliance" => Gen.Frequency((3, JsonString.List[0, 4].Select(l => "[" + string.Join(',', l) + "]")), (1, Value(2))),
        "seq" or "timestamp" => Gen.Frequency((1, JsonNumber), (1, Scalar)),
        _ => Gen.Frequency((8, JsonString), (1, Value(2))),
    };

    private static readonly Gen<string> ValidEvent = Gen.Int[0, 1_000_000].Select(i =>
        $$"""{"type":"data.accessed","severity":"info","category":"data","actor_id":"user-{{i}}","target_id":"record-{{i}}","action":"read","outcome":"success"}""");

    /// <summary>An event object: the required fields most of the time, plus a random selection of others.</summary>
    public static readonly Gen<string> EventObject = Gen.Frequency(
        (1, ValidEvent),
        (4, Gen.Select(Gen.Bool, Gen.OneOf(s_eventFields).SelectMany(f => FieldValue(f).Select(v => (f, v))).List[0, 10])
            .Select(t =>
            {
                var members = new List<string>();
                if (t.Item1)
                {
                    members.AddRange(["\"type\":\"data.accessed\"", "\"severity\":\"info\"", "\"category\":\"data\"", "\"actor_id\":\"u\"", "\"target_id\":\"r\"", "\"action\":\"read\"", "\"outcome\":\"success\""]);
                }

                members.AddRange(t.Item2.Select(m => JsonSerializer.Serialize(m.f) + ":" + m.v));
                return "{" + string.Join(',', members) + "}";
            })));

    public static readonly Gen<byte[]> IngestJson = Gen.Frequency(
        (3, EventObject),
        (3, EventObject.List[0, 8].Select(l => "[" + string.Join(',', l) + "]")),
        (1, Value(3)))
        .Select(Encoding.UTF8.GetBytes);

    public static readonly Gen<byte[]> IngestNdjson = Gen.Frequency((6, EventObject), (1, Value(2)), (1, Gen.OneOf("", " ", "\r")))
        .List[0, 8].Select(lines => Encoding.UTF8.GetBytes(string.Join('\n', lines)));

    /// <summary>A filter as the JSON of <c>update_filters</c> / <c>?filters=</c>.</summary>
    public static readonly Gen<string> FilterJson = Gen.Select(
            Gen.OneOf("event_types", "severities", "categories", "actor_ids", "target_ids", "time_range", "compliance_only", "security_only", "match", "x"),
            Gen.Int[0, 5])
        .SelectMany(t => (t.Item1 switch
        {
            "time_range" => Gen.Select(JsonString, JsonString, JsonString).Select(r => $$"""{"start":{{r.Item1}},"end":{{r.Item2}},"relative":{{r.Item3}}}"""),
            "compliance_only" or "security_only" => Gen.Frequency((3, Gen.OneOf("true", "false")), (1, Scalar)),
            "match" => Gen.Select(JsonString, Gen.OneOf("\"eq\"", "\"neq\"", "\"in\"", "\"prefix\"", "\"exists\"", "\"gt\"", "\"lt\"", "\"regex\"", "1"), Value(2))
                .Select(m => $$"""{"field":{{m.Item1}},"op":{{m.Item2}},"value":{{m.Item3}}}""").List[0, 4].Select(l => "[" + string.Join(',', l) + "]"),
            _ => Gen.Frequency((4, JsonString.List[0, 4].Select(l => "[" + string.Join(',', l) + "]")), (1, Value(2))),
        }).Select(v => JsonSerializer.Serialize(t.Item1) + ":" + v))
        .List[0, 5].Select(members => "{" + string.Join(',', members) + "}");

    public static readonly Gen<KeyValuePair<string, string?>[]> Query = Gen.Select(
            Gen.Frequency((6, Gen.OneOf(s_queryKeys)), (1, Text)),
            Gen.Frequency(
                (4, Text),
                (2, Text.List[0, 4].Select(l => string.Join(',', l))),
                (2, Gen.Select(Text, Gen.OneOf(":eq:", ":neq:", ":in:", ":prefix:", ":exists", ":exists:", ":gt:", ":lt:", ":", "::", ":bogus:"), Text).Select(m => m.Item1 + m.Item2 + m.Item3)),
                (1, FilterJson),
                (1, Gen.Const<string?>((string?)null))))
        .Select(kv => new KeyValuePair<string, string?>(kv.Item1, kv.Item2)).Array[0, 6];

    public static readonly Gen<byte[]> ClientFrame = Gen.Frequency(
            (2, FilterJson.Select(f => $$"""{"type":"update_filters","filters":{{f}}}""")),
            (1, Gen.Select(Gen.OneOf("\"ping\"", "\"resume\"", "\"update_filters\"", "\"subscribe\"", "1", "null"), Value(2))
                .Select(t => $$"""{"type":{{t.Item1}},"since_seq":{{t.Item2}},"filters":{{t.Item2}},"ledger_id":{{t.Item2}}}""")),
            (1, JsonNumber.Select(n => $$"""{"type":"resume","since_seq":{{n}}}""")),
            (1, Value(4)))
        .Select(Encoding.UTF8.GetBytes);

    public static readonly Gen<byte[]> CanonicalJson = Value(4).Select(Encoding.UTF8.GetBytes);

    /// <summary>One edit: what, where (scaled to the input), which byte or token.</summary>
    private static readonly Gen<(int Kind, int At, int Length, byte Byte, int Token)> s_mutation =
        Gen.Select(Gen.Int[0, 8], Gen.Int[0, int.MaxValue], Gen.Int[1, 16], Gen.Byte, Gen.Int[0, s_tokens.Length - 1]);

    /// <summary>A seed from <paramref name="seeds"/> with 1 to 8 edits, sometimes spliced with another seed.</summary>
    public static Gen<byte[]> Mutated(IReadOnlyList<byte[]> seeds) =>
        Gen.Select(Gen.Int[0, seeds.Count - 1], Gen.Int[0, seeds.Count - 1], s_mutation.Array[1, 8])
            .Select(t => Mutate(seeds[t.Item1], seeds[t.Item2], t.Item3));

    public static byte[] Mutate(byte[] seed, byte[] other, (int Kind, int At, int Length, byte Byte, int Token)[] edits)
    {
        var bytes = new List<byte>(seed);
        foreach (var (kind, rawAt, length, value, token) in edits)
        {
            var at = bytes.Count == 0 ? 0 : rawAt % (bytes.Count + 1);
            var inside = Math.Min(at, Math.Max(bytes.Count - 1, 0));
            switch (kind)
            {
                case 0 when bytes.Count > 0:
                    bytes[inside] ^= (byte)(1 << (value & 7));
                    break;
                case 1 when bytes.Count > 0:
                    bytes[inside] = value;
                    break;
                case 2:
                    bytes.Insert(at, value);
                    break;
                case 3 when bytes.Count > 0:
                    bytes.RemoveRange(inside, Math.Min(length, bytes.Count - inside));
                    break;
                case 4 or 5:
                    bytes.InsertRange(at, Encoding.UTF8.GetBytes(s_tokens[token]));
                    break;
                case 6 when bytes.Count > 0:
                    bytes.InsertRange(inside, bytes.GetRange(inside, Math.Min(length, bytes.Count - inside)));
                    break;
                case 7:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 8:
                    var from = other.Length == 0 ? 0 : rawAt % other.Length;
                    bytes.InsertRange(at, other.AsSpan(from, Math.Min(length * 8, other.Length - from)).ToArray());
                    break;
            }
        }

        return [.. bytes];
    }
}
