using System.Text;
using System.Text.Json;
using AuditStream.Canonical;
using AuditStream.Events;
using AuditStream.Filters;
using AuditStream.Ledger.Verification;
using AuditStream.Privacy;
using AuditStream.Server.Api;
using AuditStream.Streaming.Protocol;
using AuditStream.Validation;
using Microsoft.AspNetCore.Http;

namespace AuditStream.Fuzz.Tests;

/// <summary>
/// The fuzz targets: each takes one input, runs the real parsing and validation code the server runs on it, and throws
/// <see cref="FuzzInvariantException"/> when an invariant breaks. Any other exception escaping is a crash. The
/// documented validation failures (problem details, <c>audit.error</c>, a tamper report) are normal results, not crashes.
/// </summary>
internal static class FuzzTargets
{
    /// <summary>The per-request event limit the targets parse with (the server's default is larger; the path is the same).</summary>
    public const int MaxEvents = 1_000;

    private static readonly EventPreparer s_preparer = new();

    /// <summary>
    /// <c>POST /api/v1/events</c> body parsing and validation: a parse failure is a 400 or 413 problem; every parsed event
    /// either passes the rules or names at least one broken rule; a passing event's ledger body (with seq, prev_hash and
    /// timestamp spliced in) is already RFC 8785 canonical and reads back as the same event.
    /// </summary>
    public static void Ingest(byte[] body, bool ndjson)
    {
        var parsed = ndjson ? IngestEndpoints.ParseNdjson(body, MaxEvents) : IngestEndpoints.ParseJson(body, MaxEvents);
        if (parsed.Failure is not null)
        {
            var status = (parsed.Failure as IStatusCodeHttpResult)?.StatusCode;
            Check(status is StatusCodes.Status400BadRequest or StatusCodes.Status413PayloadTooLarge, $"a parse failure answered {status}, not 400 or 413");
            return;
        }

        _ = parsed.WithRuleErrors(s_preparer, "acme");
        var errors = new List<ValidationError>();
        var prev = ChainStep.GenesisPrevHash.ToArray();
        var seq = 1L;
        foreach (var e in parsed.Events)
        {
            errors.Clear();
            var prepared = s_preparer.Prepare(e, "acme", errors);
            if (prepared is null)
            {
                Check(errors.Count > 0, "an event was refused without naming a rule");
                continue;
            }

            Check(errors.Count == 0, "an accepted event came with errors");
            var ledgerBody = Splice(prepared, prev, seq++);
            var canonical = JsonCanonicalizer.Canonicalize(ledgerBody);
            Check(canonical.AsSpan().SequenceEqual(ledgerBody), $"the ledger body is not canonical: {Encoding.UTF8.GetString(ledgerBody)}");
            var again = JsonSerializer.Deserialize(ledgerBody, AuditEventReading.Event);
            Check(again is not null && again.Id == prepared.Id && again.Type == prepared.Event.Type && again.ActorId == prepared.Event.ActorId,
                "the ledger body does not read back as the prepared event");
            ChainStep.ComputeHash(prev, ledgerBody, prev);
        }
    }

    /// <summary>
    /// <c>auditstream verify --export</c> over an NDJSON export: any text gives a report (intact or which seq is wrong
    /// and why), never an exception.
    /// </summary>
    public static VerificationReport Export(string ndjson) =>
        ExportVerifier.VerifyAsync(new StringReader(ndjson), new VerificationOptions(), CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>
    /// Round trip: accepted events chained into ledger records, exported exactly as <c>GET /api/v1/events/export</c>
    /// writes them (EventJson), verify as intact; changing one byte of one line's value is reported, not thrown.
    /// </summary>
    public static void ExportRoundTrip(IReadOnlyList<byte[]> eventBodies, int tamperLine, int tamperAt)
    {
        var lines = BuildExport(eventBodies);
        var report = Export(string.Join('\n', lines) + "\n");
        Check(report.Kind == TamperKind.None && report.EventsChecked == lines.Count, $"an untouched export of {lines.Count} events did not verify: {report.Kind} {report.Message}");
        if (lines.Count == 0)
        {
            return;
        }

        var line = lines[tamperLine % lines.Count];
        var at = tamperAt % line.Length;
        lines[tamperLine % lines.Count] = line[..at] + (line[at] == 'a' ? 'b' : 'a') + line[(at + 1)..];
        _ = Export(string.Join('\n', lines));
    }

    /// <summary>
    /// The filter query syntax of the read, export and SSE endpoints: parse, validate and compile like the server, then
    /// match events; a filter is either refused with errors or compiles and matches without throwing.
    /// </summary>
    public static void FilterQuery(IReadOnlyList<KeyValuePair<string, string?>> query, IReadOnlyList<AuditEvent> events)
    {
        var errors = new List<ValidationError>();
        var filter = StreamFilter.FromQuery(query, errors);
        if (errors.Count > 0 || !FilterValidator.Validate(filter, 100, errors))
        {
            Check(errors.Count > 0, "a refused filter named no error");
            return;
        }

        var compiled = CompiledFilter.Compile(filter, TimeProvider.System);
        foreach (var e in events)
        {
            _ = compiled.Matches(e);
        }
    }

    /// <summary>A WebSocket client text frame: any bytes parse to a message or to an <c>audit.error</c> with a code; filters are validated.</summary>
    public static void ClientFrame(byte[] frame)
    {
        var message = ClientMessage.Parse(frame, 100);
        if (message.Kind == ClientMessageKind.Invalid)
        {
            Check(!string.IsNullOrEmpty(message.ErrorCode) && !string.IsNullOrEmpty(message.ErrorMessage), "an invalid message has no error code or message");
        }
        else if (message.Filter is { } filter)
        {
            var errors = new List<ValidationError>();
            Check(FilterValidator.Validate(filter, 100, errors), "the parser accepted a filter the validator refuses");
            _ = CompiledFilter.Compile(filter, TimeProvider.System);
        }
    }

    /// <summary>
    /// RFC 8785: input that is JSON either has a canonical form or is refused with <see cref="JsonCanonicalizationException"/>;
    /// input that is not JSON is refused with <see cref="JsonException"/>. The canonical form is idempotent and parses.
    /// </summary>
    public static void Canonicalize(byte[] json)
    {
        byte[] canonical;
        try
        {
            canonical = JsonCanonicalizer.Canonicalize(json);
        }
        catch (JsonException)
        {
            return;
        }

        var twice = JsonCanonicalizer.Canonicalize(canonical);
        Check(twice.AsSpan().SequenceEqual(canonical), $"canonicalization is not idempotent: {Encoding.UTF8.GetString(canonical)} became {Encoding.UTF8.GetString(twice)}");
        using var document = JsonDocument.Parse(canonical);
        Check(canonical.Length == 0 || canonical[^1] != (byte)'\n', "the canonical form ends with whitespace");
    }

    /// <summary>The export lines (as the export endpoint writes them) of the events in <paramref name="eventBodies"/> that pass validation, chained from seq 1.</summary>
    public static List<string> BuildExport(IReadOnlyList<byte[]> eventBodies)
    {
        var lines = new List<string>();
        var errors = new List<ValidationError>();
        var prev = ChainStep.GenesisPrevHash.ToArray();
        foreach (var bytes in eventBodies)
        {
            var parsed = IngestEndpoints.ParseJson(bytes, MaxEvents);
            foreach (var e in parsed.Failure is null ? parsed.Events : [])
            {
                errors.Clear();
                if (s_preparer.Prepare(e, "acme", errors) is not { } prepared)
                {
                    continue;
                }

                var seq = lines.Count + 1L;
                var body = Splice(prepared, prev, seq);
                var hash = new byte[32];
                ChainStep.ComputeHash(prev, body, hash);
                var output = new MemoryStream();
                using (var writer = new Utf8JsonWriter(output))
                {
                    EventJson.Write(writer, new LedgerRecord(seq, TimestampMicros(seq), prev, hash, body), maskPii: false, NoSubjectKeys.Instance);
                }

                lines.Add(Encoding.UTF8.GetString(output.ToArray()));
                prev = hash;
            }
        }

        return lines;
    }

    private static byte[] Splice(PreparedEvent prepared, ReadOnlySpan<byte> prev, long seq)
    {
        var destination = new byte[prepared.Canonical.Length + ChainStep.LedgerFieldsMaxLength];
        var written = ChainStep.WriteBody(prepared, prev, seq, TimestampMicros(seq), destination);
        return destination[..written];
    }

    private static long TimestampMicros(long seq) => 1_767_225_600_000_000L + seq;

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new FuzzInvariantException(message);
        }
    }
}

/// <summary>A fuzz target's invariant did not hold.</summary>
internal sealed class FuzzInvariantException(string message) : Exception(message);
