using System.Buffers;
using System.Globalization;
using System.Text;
using AuditStream.Events;

namespace AuditStream.Server.Api;

/// <summary>
/// RFC 4180 CSV rows of the export: one column per top-level field; source, pii and metadata as JSON text. A value that a
/// spreadsheet would run as a formula (first character <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, tab or carriage return) is
/// neutralized as OWASP's "CSV Injection" page recommends: prefixed with <c>'</c> and quoted. Only CSV is changed so;
/// NDJSON stays the stored, hashed bytes.
/// </summary>
internal static class CsvRow
{
    public const string Header =
        "seq,timestamp,id,type,severity,category,actor_id,actor_type,target_id,target_type,action,outcome,occurred_at,tenant_id,subject_id,compliance,source,pii,metadata,prev_hash,hash\r\n";

    private static readonly SearchValues<char> s_formulaStarts = SearchValues.Create("=+-@\t\r");
    private static readonly SearchValues<char> s_needsQuotes = SearchValues.Create(",\"\r\n");

    public static string Format(LedgerRecord record, bool maskPii, AuditStream.Privacy.ISubjectKeys keys)
    {
        var e = record.Event;
        var row = new StringBuilder(512);
        Append(row, e.Seq?.ToString(CultureInfo.InvariantCulture));
        Append(row, e.Timestamp is { } ts ? Timestamps.FormatMicros(Timestamps.ToMicros(ts)) : null);
        Append(row, e.Id?.ToString());
        Append(row, e.Type);
        Append(row, e.Severity);
        Append(row, e.Category);
        Append(row, e.ActorId);
        Append(row, e.ActorType);
        Append(row, e.TargetId);
        Append(row, e.TargetType);
        Append(row, e.Action);
        Append(row, e.Outcome);
        Append(row, e.OccurredAt?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
        Append(row, e.TenantId);
        Append(row, e.SubjectId);
        Append(row, e.Compliance is { Count: > 0 } tags ? string.Join(' ', tags) : null);
        Append(row, e.Source is null ? null : System.Text.Json.JsonSerializer.Serialize(e.Source, AuditJsonContext.Default.EventSource));
        Append(row, Pii(record, maskPii, keys));
        Append(row, e.Metadata?.GetRawText());
        Append(row, e.PrevHash);
        Append(row, e.Hash, last: true);
        return row.Append("\r\n").ToString();
    }

    /// <summary>What the reader may see of <c>pii</c> (decrypted, masked or erased), as JSON text; the CSV has no envelope column.</summary>
    private static string? Pii(LedgerRecord record, bool maskPii, AuditStream.Privacy.ISubjectKeys keys)
    {
        if (!AuditStream.Privacy.PiiDisclosure.TryLocate(record.Body, out var value))
        {
            return null;
        }

        var shown = AuditStream.Privacy.PiiDisclosure.Show(record, value, maskPii, keys, out _);
        // A marker ("[masked]", "[erased]") as bare text, as it always was; the plaintext object as JSON text.
        return shown[0] == (byte)'"' ? Encoding.UTF8.GetString(shown.AsSpan(1, shown.Length - 2)) : Encoding.UTF8.GetString(shown);
    }

    private static void Append(StringBuilder row, string? value, bool last = false)
    {
        if (value is not null)
        {
            var formula = value.Length > 0 && s_formulaStarts.Contains(value[0]);
            if (formula || value.AsSpan().ContainsAny(s_needsQuotes))
            {
                row.Append('"');
                if (formula)
                {
                    row.Append('\'');
                }

                row.Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
            }
            else
            {
                row.Append(value);
            }
        }

        if (!last)
        {
            row.Append(',');
        }
    }
}
