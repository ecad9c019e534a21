using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using AuditStream.Events;
using AuditStream.Ledger.Storage;

namespace AuditStream.Server.Api;

/// <summary>Streams every event matching a query as NDJSON (verifiable with <c>auditstream verify --export</c>) or CSV, one page at a time.</summary>
internal static class EventExport
{
    /// <summary>Events read and written per page: memory stays bounded by one page whatever the export's size.</summary>
    public const int PageSize = 1_000;

    /// <summary>Bytes buffered in the pipe before they are flushed to the client (a few socket writes' worth).</summary>
    private const int FlushThreshold = 32 * 1024;

    /// <summary>
    /// Writes the export into <paramref name="output"/>'s pooled buffers and flushes them asynchronously: nothing here
    /// writes synchronously to the underlying stream (Kestrel's response body refuses synchronous writes, and a masked
    /// event is serialized by <see cref="JsonSerializer"/>, which flushes its writer).
    /// </summary>
    public static async Task WriteAsync(PipeWriter output, ILedgerStore store, EventQuery query, bool csv, bool maskPii, AuditStream.Privacy.ISubjectKeys keys, CancellationToken cancellationToken)
    {
        if (csv)
        {
            Encoding.UTF8.GetBytes(CsvRow.Header, output);
        }

        await using var json = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        query = query with { Limit = PageSize };
        while (true)
        {
            var page = await store.QueryAsync(query, cancellationToken);
            foreach (var record in page.Records)
            {
                if (csv)
                {
                    Encoding.UTF8.GetBytes(CsvRow.Format(record, maskPii, keys), output);
                }
                else
                {
                    EventJson.Write(json, record, maskPii, keys);
                    json.Flush();
                    json.Reset();
                    output.Write("\n"u8);
                }

                if (output.UnflushedBytes >= FlushThreshold)
                {
                    await output.FlushAsync(cancellationToken);
                }
            }

            await output.FlushAsync(cancellationToken);
            if (page.ScannedThroughSeq is not { } through)
            {
                return;
            }

            query = query with { AfterSeq = through };
        }
    }
}
