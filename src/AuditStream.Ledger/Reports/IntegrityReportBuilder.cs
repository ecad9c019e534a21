using System.Buffers;
using System.Text;
using System.Text.Json;
using AuditStream.Canonical;
using AuditStream.Checkpoints;
using AuditStream.Events;
using AuditStream.Ledger.Proofs;
using AuditStream.Ledger.Storage;
using AuditStream.Ledger.Verification;
using AuditStream.Merkle;

namespace AuditStream.Ledger.Reports;

/// <summary>What an integrity report covers.</summary>
/// <param name="From">Start of the period (inclusive), on the ledger's own event timestamps.</param>
/// <param name="To">End of the period (exclusive).</param>
/// <param name="TenantId">Count only this tenant's events; null counts every tenant.</param>
public sealed record IntegrityReportRequest(DateTimeOffset From, DateTimeOffset To, string? TenantId);

/// <summary>
/// Builds the SOX integrity evidence of a period (<c>auditstream report integrity</c>): the verifier's result for the
/// ledger (the same <see cref="LedgerVerifier"/> as <c>auditstream verify</c>), the signed checkpoints of the period with
/// a consistency proof between each consecutive pair, and the period's event counts per category and per tenant, as one
/// line of RFC 8785 JSON (<see cref="IntegrityReport.Format"/>). Read-only.
/// </summary>
public static class IntegrityReportBuilder
{
    /// <summary>Builds the canonical report JSON for <paramref name="request"/>, checking checkpoints with <paramref name="verifier"/>.</summary>
    public static async Task<string> BuildAsync(ILedgerStore store, IntegrityReportRequest request, NoteVerifier verifier, DateTimeOffset generatedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(verifier);
        var fromMicros = Timestamps.ToMicros(request.From);
        var toMicros = Timestamps.ToMicros(request.To);

        // The whole ledger is verified: an event's hash depends on every event before it, so a period cannot be checked alone.
        var verification = await new LedgerVerifier(store).VerifyAsync(new VerificationOptions { VerifierKey = verifier.VerifierKey }, cancellationToken);
        var lastSeq = store is ILedgerScan scan ? await scan.ReadLastSeqAsync(cancellationToken) : (await store.ReadHeadAsync(cancellationToken)).LastSeq;
        var counts = await CountAsync(store, fromMicros, toMicros, request.TenantId, lastSeq, cancellationToken);
        var checkpoints = await CheckpointsAsync(store, verifier, fromMicros, toMicros, lastSeq, cancellationToken);
        var ledgerId = await store.ReadLedgerIdAsync(cancellationToken);

        var output = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            writer.WriteString("format"u8, IntegrityReport.Format);
            writer.WriteString("generated_at"u8, Timestamps.FormatMicros(Timestamps.ToMicros(generatedAt)));
            writer.WriteStartObject("ledger"u8);
            writer.WriteString("id"u8, ledgerId);
            writer.WriteString("origin"u8, verifier.Name);
            writer.WriteString("verifier_key"u8, verifier.VerifierKey);
            writer.WriteNumber("last_seq"u8, lastSeq);
            writer.WriteEndObject();
            writer.WriteStartObject("period"u8);
            writer.WriteString("from"u8, Timestamps.FormatMicros(fromMicros));
            writer.WriteString("to"u8, Timestamps.FormatMicros(toMicros));
            if (request.TenantId is null)
            {
                writer.WriteNull("tenant_id"u8);
            }
            else
            {
                writer.WriteString("tenant_id"u8, request.TenantId);
            }

            writer.WriteEndObject();
            WriteVerification(writer, verification, lastSeq);
            counts.Write(writer);
            checkpoints.Write(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(JsonCanonicalizer.Canonicalize(output.WrittenSpan));
    }

    private static void WriteVerification(Utf8JsonWriter writer, VerificationReport report, long lastSeq)
    {
        writer.WriteStartObject("verification"u8);
        writer.WriteBoolean("valid"u8, report.IsValid);
        writer.WriteString("result"u8, report.Kind == TamperKind.None ? "valid" : JsonNamingPolicy.SnakeCaseLower.ConvertName(report.Kind.ToString()));
        if (report.FirstBadSeq is { } seq)
        {
            writer.WriteNumber("first_bad_seq"u8, seq);
        }
        else
        {
            writer.WriteNull("first_bad_seq"u8);
        }

        writer.WriteString("message"u8, report.ToString());
        writer.WriteString("scope"u8, $"seq 1 through {lastSeq} (the whole ledger: each event's hash depends on all before it)");
        writer.WriteNumber("events_checked"u8, report.EventsChecked);
        writer.WriteNumber("checkpoints_checked"u8, report.CheckpointsChecked);
        writer.WriteEndObject();
    }

    private static async Task<Counts> CountAsync(ILedgerStore store, long fromMicros, long toMicros, string? tenantId, long lastSeq, CancellationToken cancellationToken)
    {
        var counts = new Counts();
        if (await store.FindSeqAtOrAfterAsync(fromMicros, cancellationToken) is not { } first)
        {
            return counts;
        }

        var end = await store.FindSeqAtOrAfterAsync(toMicros, cancellationToken) is { } after ? after - 1 : lastSeq;
        await foreach (var record in store.ReadRangeAsync(first, Math.Min(end, lastSeq), cancellationToken))
        {
            if (record.TimestampMicros < fromMicros || record.TimestampMicros >= toMicros)
            {
                continue;
            }

            AuditEvent body;
            try
            {
                body = record.Event;
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
            {
                // A body that no longer parses was tampered with; the verification names it, the count keeps it.
                counts.Add(record, tenant: null, category: null, unreadable: true);
                continue;
            }

            if (tenantId is null || string.Equals(body.TenantId, tenantId, StringComparison.Ordinal))
            {
                counts.Add(record, body.TenantId, body.Category, unreadable: false);
            }
        }

        return counts;
    }

    private static async Task<CheckpointChain> CheckpointsAsync(ILedgerStore store, NoteVerifier verifier, long fromMicros, long toMicros, long lastSeq, CancellationToken cancellationToken)
    {
        // The period's checkpoints and the last one before it, so the chain links to what was signed before the period.
        var all = new List<StoredCheckpoint>();
        await foreach (var checkpoint in store.ReadCheckpointsAsync(cancellationToken))
        {
            all.Add(checkpoint);
        }

        all.Sort((a, b) => a.TreeSize.CompareTo(b.TreeSize));
        var chain = new CheckpointChain();
        var before = all.LastOrDefault(c => c.CreatedAtMicros < fromMicros);
        var opener = new CheckpointVerifier(verifier);
        var proofs = new LedgerProofs(store, () => lastSeq);
        (long Size, byte[] Root)? previous = null;
        foreach (var checkpoint in all.Where(c => ReferenceEquals(c, before) || (c.CreatedAtMicros >= fromMicros && c.CreatedAtMicros < toMicros)))
        {
            var opened = opener.Open(checkpoint.SignedNote);
            var signed = opened.Checkpoint is { } body && body.TreeSize == checkpoint.TreeSize && body.RootHash.AsSpan().SequenceEqual(checkpoint.RootHash);
            chain.Checkpoints.Add(new ChainCheckpoint(checkpoint, ReferenceEquals(checkpoint, before), signed, signed ? null : opened.Error ?? "the stored row differs from its signed note"));
            if (previous is { } from && from.Size > 0 && checkpoint.TreeSize > from.Size && checkpoint.TreeSize <= lastSeq)
            {
                var proof = await proofs.ConsistencyAsync(from.Size, checkpoint.TreeSize, cancellationToken);
                var consistent = MerkleProofs.VerifyConsistency(from.Size, checkpoint.TreeSize, from.Root, checkpoint.RootHash, proof.Path);
                chain.Links.Add(new ChainLink(from.Size, checkpoint.TreeSize, proof.Path, consistent));
            }
            else if (previous is { } same && same.Size > 0 && checkpoint.TreeSize <= lastSeq)
            {
                // Equal sizes (or beyond the ledger's end, which the verification reports): no proof exists, the roots must match.
                chain.Links.Add(new ChainLink(same.Size, checkpoint.TreeSize, [], same.Size == checkpoint.TreeSize && same.Root.AsSpan().SequenceEqual(checkpoint.RootHash)));
            }

            previous = (checkpoint.TreeSize, checkpoint.RootHash);
        }

        return chain;
    }

    private sealed class Counts
    {
        private readonly SortedDictionary<string, long> _categories = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, long> _tenants = new(StringComparer.Ordinal);
        private long _total;
        private long _unreadable;
        private LedgerRecord? _first;
        private LedgerRecord? _last;

        public void Add(LedgerRecord record, string? tenant, string? category, bool unreadable)
        {
            _total++;
            _first ??= record;
            _last = record;
            if (unreadable)
            {
                _unreadable++;
                return;
            }

            Increment(_categories, category ?? "");
            Increment(_tenants, tenant ?? "");
        }

        public void Write(Utf8JsonWriter writer)
        {
            writer.WriteStartObject("events"u8);
            writer.WriteNumber("total"u8, _total);
            writer.WriteNumber("unreadable"u8, _unreadable);
            WriteEdge(writer, "first"u8, _first);
            WriteEdge(writer, "last"u8, _last);
            WriteCounts(writer, "by_category"u8, _categories);
            WriteCounts(writer, "by_tenant"u8, _tenants);
            writer.WriteEndObject();
        }

        private static void Increment(SortedDictionary<string, long> counts, string key) =>
            counts[key] = counts.GetValueOrDefault(key) + 1;

        private static void WriteEdge(Utf8JsonWriter writer, ReadOnlySpan<byte> name, LedgerRecord? record)
        {
            if (record is null)
            {
                writer.WriteNull(name);
                return;
            }

            writer.WriteStartObject(name);
            writer.WriteNumber("seq"u8, record.Seq);
            writer.WriteString("timestamp"u8, Timestamps.FormatMicros(record.TimestampMicros));
            writer.WriteString("hash"u8, Convert.ToHexStringLower(record.Hash));
            writer.WriteEndObject();
        }

        private static void WriteCounts(Utf8JsonWriter writer, ReadOnlySpan<byte> name, SortedDictionary<string, long> counts)
        {
            writer.WriteStartObject(name);
            foreach (var (key, count) in counts)
            {
                writer.WriteNumber(key, count);
            }

            writer.WriteEndObject();
        }
    }

    private sealed record ChainCheckpoint(StoredCheckpoint Stored, bool BeforePeriod, bool SignatureValid, string? Problem);

    private sealed record ChainLink(long FromSize, long ToSize, IReadOnlyList<byte[]> Proof, bool Consistent);

    private sealed class CheckpointChain
    {
        public List<ChainCheckpoint> Checkpoints { get; } = [];

        public List<ChainLink> Links { get; } = [];

        public void Write(Utf8JsonWriter writer)
        {
            writer.WriteStartObject("checkpoints"u8);
            writer.WriteBoolean("chain_valid"u8, Checkpoints.TrueForAll(c => c.SignatureValid) && Links.TrueForAll(l => l.Consistent));
            writer.WriteStartArray("signed"u8);
            foreach (var c in Checkpoints)
            {
                writer.WriteStartObject();
                writer.WriteNumber("tree_size"u8, c.Stored.TreeSize);
                writer.WriteString("root_hash"u8, Convert.ToHexStringLower(c.Stored.RootHash));
                writer.WriteString("created_at"u8, Timestamps.FormatMicros(c.Stored.CreatedAtMicros));
                writer.WriteBoolean("before_period"u8, c.BeforePeriod);
                writer.WriteBoolean("signature_valid"u8, c.SignatureValid);
                if (c.Problem is null)
                {
                    writer.WriteNull("problem"u8);
                }
                else
                {
                    writer.WriteString("problem"u8, c.Problem);
                }

                writer.WriteString("note"u8, c.Stored.SignedNote);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray("consistency"u8);
            foreach (var link in Links)
            {
                writer.WriteStartObject();
                writer.WriteNumber("from_size"u8, link.FromSize);
                writer.WriteNumber("to_size"u8, link.ToSize);
                writer.WriteBoolean("consistent"u8, link.Consistent);
                writer.WriteStartArray("proof"u8);
                foreach (var hash in link.Proof)
                {
                    writer.WriteStringValue(Convert.ToHexStringLower(hash));
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }
    }
}
