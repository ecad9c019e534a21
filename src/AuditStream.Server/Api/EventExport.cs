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
    /// <remarks>
    /// With <paramref name="proofs"/> (NDJSON only) the first line is <c>{"checkpoint": signed note}</c> and every further
    /// line <c>{"event": …, "proof": {leaf_index, tree_size, hashes}}</c>, each proof against that checkpoint.
    /// </remarks>
    public static async Task WriteAsync(PipeWriter output, ILedgerStore store, EventQuery query, bool csv, bool maskPii, AuditStream.Privacy.ISubjectKeys keys, CancellationToken cancellationToken, ExportProofs? proofs = null)
    {
        if (csv)
        {
            Encoding.UTF8.GetBytes(CsvRow.Header, output);
        }

        await using var json = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        if (proofs is not null)
        {
            json.WriteStartObject();
            json.WriteString("checkpoint", proofs.Checkpoint.SignedNote);
            json.WriteEndObject();
            EndLine(json, output);
        }

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
                else if (proofs is not null)
                {
                    json.WriteStartObject();
                    json.WritePropertyName("event");
                    EventJson.Write(json, record, maskPii, keys);
                    json.WritePropertyName("proof");
                    var treeSize = proofs.Checkpoint.TreeSize;
                    ProofAttachment.Write(json, record.Seq, treeSize, await ProofAttachment.PathAsync(proofs.Ledger, record.Seq, treeSize, cancellationToken));
                    json.WriteEndObject();
                    EndLine(json, output);
                }
                else
                {
                    EventJson.Write(json, record, maskPii, keys);
                    EndLine(json, output);
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

    private static void EndLine(Utf8JsonWriter json, PipeWriter output)
    {
        json.Flush();
        json.Reset();
        output.Write("\n"u8);
    }
}

/// <summary>What a proof-carrying export proves its events against: the ledger and the signed checkpoint its snapshot ends at.</summary>
internal sealed record ExportProofs(AuditStream.Ledger.AuditLedger Ledger, StoredCheckpoint Checkpoint);
