using System.Buffers;
using System.Text;
using System.Text.Json;
using AuditStream.Canonical;
using AuditStream.Checkpoints;
using AuditStream.Events;
using AuditStream.Ledger.Checkpoints;
using AuditStream.Ledger.Storage;
using AuditStream.Ledger.Writing;
using AuditStream.Privacy;

namespace AuditStream.Ledger.Privacy;

/// <summary>
/// Erasure by crypto-shredding (DESIGN.md §4): destroys a subject's data key, appends <c>privacy.erasure.completed</c>
/// and signs a certificate. The key goes first, in the transaction that records what the erasure decided; a crash after it
/// leaves a recorded erasure that a re-POST completes with the same event, and a crash before it leaves the key.
/// </summary>
public sealed class SubjectErasure
{
    /// <summary>The type of the event every erasure appends; sinks take it as their tombstone.</summary>
    public const string EventType = "privacy.erasure.completed";

    private readonly AuditLedger _ledger;
    private readonly SubjectKeyRing _keys;
    private readonly NoteSigner _signer;
    private readonly TimeProvider _time;

    internal SubjectErasure(AuditLedger ledger, SubjectKeyRing keys, NoteSigner signer, TimeProvider time)
    {
        _ledger = ledger;
        _keys = keys;
        _signer = signer;
        _time = time;
    }

    /// <summary>Test hook: runs after the key is destroyed and before the event is appended (crash injection).</summary>
    internal Action? AfterKeyDestroyed { get; set; }

    /// <summary>
    /// Erases <paramref name="subjectId"/> of <paramref name="tenantId"/>, or re-issues the certificate of its last erasure;
    /// null when the subject has no key in that tenant and was never erased there (which also hides other tenants' subjects).
    /// </summary>
    /// <exception cref="InvalidOperationException">The ledger refused the erasure event (busy, closed); retrying resumes.</exception>
    public async Task<ErasureCertificate?> EraseAsync(string tenantId, string subjectId, string? actorId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenantId);
        ArgumentException.ThrowIfNullOrEmpty(subjectId);
        var store = _keys.Store;
        ErasureRecord record;
        var repeated = false;
        if (store.FindLive(tenantId, subjectId) is { } live)
        {
            var (ranges, count) = await AffectedAsync(tenantId, subjectId, live.Id, cancellationToken);
            record = new ErasureRecord(Guid.CreateVersion7(), live.Id, _time.GetUtcNow(), actorId, ranges, count);
            if (!store.Destroy(live.Id, JsonSerializer.Serialize(record, ErasureJsonContext.Default.ErasureRecord)))
            {
                // A concurrent erasure destroyed it first: answer with what it recorded.
                return await EraseAsync(tenantId, subjectId, actorId, cancellationToken);
            }

            _keys.Forget(live.Id, tenantId, subjectId);
            AfterKeyDestroyed?.Invoke();
        }
        else if (store.FindLatestErasure(tenantId, subjectId) is { } erased)
        {
            record = JsonSerializer.Deserialize(erased.Erasure, ErasureJsonContext.Default.ErasureRecord)
                ?? throw new InvalidDataException($"The erasure of data key '{erased.KeyId}' is not readable.");
            _keys.Forget(erased.KeyId, tenantId, subjectId);
            repeated = erased.ErasureSeq is not null;
        }
        else
        {
            return null;
        }

        var appended = await _ledger.AppendAsync([Event(tenantId, subjectId, record)], tenantId, cancellationToken);
        if (appended.Append is not { Status: AppendStatus.Committed } result)
        {
            throw new InvalidOperationException($"The ledger did not commit the erasure event ({appended.Append?.Status.ToString() ?? "invalid"}); the key is destroyed, and re-sending the request completes the erasure.");
        }

        var receipt = result.Events[0].Receipt;
        store.CompleteErasure(record.DataKeyId, receipt.Seq);
        var checkpoint = _ledger.Checkpoints.Latest;
        if (checkpoint is null || checkpoint.TreeSize < receipt.Seq)
        {
            checkpoint = await _ledger.Checkpoints.PublishNowAsync(cancellationToken) ?? checkpoint;
        }

        var certificate = Certificate(tenantId, subjectId, record, receipt, checkpoint);
        return new ErasureCertificate(certificate, _signer.Sign(certificate + "\n"), repeated);
    }

    private static AuditEvent Event(string tenantId, string subjectId, ErasureRecord record)
    {
        var metadata = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(metadata))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("erasure"u8);
            writer.WriteString("data_key_id"u8, record.DataKeyId);
            writer.WriteNumber("affected_events"u8, record.AffectedEvents);
            WriteRanges(writer, record.AffectedSeqs);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(metadata.WrittenMemory);
        return new AuditEvent
        {
            Id = record.EventId,
            Type = EventType,
            Severity = "info",
            Category = "compliance",
            ActorId = record.ActorId,
            TargetId = subjectId,
            TargetType = "data_subject",
            Action = "erase",
            Outcome = "success",
            OccurredAt = record.ErasedAt,
            TenantId = tenantId.Length == 0 ? null : tenantId,
            SubjectId = subjectId,
            Metadata = document.RootElement.Clone(),
        };
    }

    private static string Certificate(string tenantId, string subjectId, ErasureRecord record, AppendReceipt receipt, StoredCheckpoint? checkpoint)
    {
        var output = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            writer.WriteString("format"u8, "auditstream-erasure-certificate/v1");
            writer.WriteString("tenant_id"u8, tenantId);
            writer.WriteString("subject_id"u8, subjectId);
            writer.WriteString("erased_at"u8, Timestamps.FormatMicros(Timestamps.ToMicros(record.ErasedAt)));
            writer.WriteString("data_key_id"u8, record.DataKeyId);
            writer.WriteNumber("affected_events"u8, record.AffectedEvents);
            WriteRanges(writer, record.AffectedSeqs);
            writer.WriteStartObject("erasure_event"u8);
            writer.WriteString("id"u8, record.EventId.ToString("D"));
            writer.WriteNumber("seq"u8, receipt.Seq);
            writer.WriteString("hash"u8, Convert.ToHexStringLower(receipt.Hash));
            writer.WriteEndObject();
            if (checkpoint is null)
            {
                writer.WriteNull("checkpoint"u8);
            }
            else
            {
                writer.WriteString("checkpoint"u8, checkpoint.SignedNote);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(JsonCanonicalizer.Canonicalize(output.WrittenSpan));
    }

    private static void WriteRanges(Utf8JsonWriter writer, long[][] ranges)
    {
        writer.WriteStartArray("affected_seqs"u8);
        foreach (var range in ranges)
        {
            writer.WriteStartArray();
            writer.WriteNumberValue(range[0]);
            writer.WriteNumberValue(range[1]);
            writer.WriteEndArray();
        }

        writer.WriteEndArray();
    }

    /// <summary>The seqs (as inclusive ranges) of the subject's events whose pii is sealed with <paramref name="keyId"/>.</summary>
    private async Task<(long[][] Ranges, long Count)> AffectedAsync(string tenantId, string subjectId, string keyId, CancellationToken cancellationToken)
    {
        var ranges = new List<long[]>();
        long count = 0;
        var query = new EventQuery
        {
            TenantId = tenantId.Length == 0 ? null : tenantId,
            UpToSeq = _ledger.Head.Size,
            Limit = 1_000,
            Residual = r => r.Event.SubjectId == subjectId && r.Event.Pii is { } pii && PiiEnvelope.TryGetKeyId(pii, out var kid) && kid == keyId,
        };
        while (true)
        {
            var page = await _ledger.Store.QueryAsync(query, cancellationToken);
            foreach (var record in page.Records)
            {
                count++;
                if (ranges.Count > 0 && ranges[^1][1] == record.Seq - 1)
                {
                    ranges[^1][1] = record.Seq;
                }
                else
                {
                    ranges.Add([record.Seq, record.Seq]);
                }
            }

            if (page.ScannedThroughSeq is not { } through)
            {
                return ([.. ranges], count);
            }

            query = query with { AfterSeq = through };
        }
    }
}
