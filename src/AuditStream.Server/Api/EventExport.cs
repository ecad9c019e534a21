using System.Buffers;
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

    /// <summary>Buffered NDJSON is written to the output once it reaches this many bytes (and at the end of each page).</summary>
    private const int FlushBytes = 64 * 1024;

    private static readonly byte[] s_newLine = "\n"u8.ToArray();

    public static async Task WriteAsync(Stream output, ILedgerStore store, EventQuery query, bool csv, bool maskPii, CancellationToken cancellationToken)
    {
        if (csv)
        {
            await output.WriteAsync(Encoding.UTF8.GetBytes(CsvRow.Header), cancellationToken);
        }

        // JSON goes to a buffer, then to the response asynchronously: the masked form is written by JsonSerializer,
        // whose final Flush would write synchronously to a stream, which Kestrel's response body refuses.
        var buffer = new ArrayBufferWriter<byte>(FlushBytes);
        await using var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        query = query with { Limit = PageSize };
        while (true)
        {
            var page = await store.QueryAsync(query, cancellationToken);
            foreach (var record in page.Records)
            {
                if (csv)
                {
                    await output.WriteAsync(Encoding.UTF8.GetBytes(CsvRow.Format(record, maskPii)), cancellationToken);
                }
                else
                {
                    EventJson.Write(json, record, maskPii);
                    json.Flush();
                    json.Reset();
                    buffer.Write(s_newLine);
                    if (buffer.WrittenCount >= FlushBytes)
                    {
                        await output.WriteAsync(buffer.WrittenMemory, cancellationToken);
                        buffer.Clear();
                    }
                }
            }

            if (buffer.WrittenCount > 0)
            {
                await output.WriteAsync(buffer.WrittenMemory, cancellationToken);
                buffer.Clear();
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
