using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AuditStream.Canonical;
using AuditStream.Events;
using CsCheck;

namespace AuditStream.Core.Tests.Canonical;

public sealed class ChainStepTests
{
    [Fact]
    public void Body_of_a_fixed_event_is_spelled_out_byte_for_byte()
    {
        var body = WriteBody(SampleEvents.Full(), SampleEvents.PrevHash(), 42, SampleEvents.TimestampMicros);

        Assert.Equal(SampleEvents.FullBody, Encoding.UTF8.GetString(body));
    }

    [Fact]
    public void Hash_of_a_fixed_event_is_sha256_of_prev_hash_then_body()
    {
        var prevHash = SampleEvents.PrevHash();
        var body = WriteBody(SampleEvents.Full(), prevHash, 42, SampleEvents.TimestampMicros);
        var hash = new byte[32];
        ChainStep.ComputeHash(prevHash, body, hash);

        // Computed outside .NET (Python hashlib over bytes 0x00..0x1f followed by FullBody).
        Assert.Equal("a80228974b7e347e955560ef0738315fe54ae5d6f9a2f3dfa3a49f9cb8d1ca53", Convert.ToHexStringLower(hash));
        Assert.Equal(SHA256.HashData([.. prevHash, .. Encoding.UTF8.GetBytes(SampleEvents.FullBody)]), hash);
    }

    [Fact]
    public void Genesis_prev_hash_is_32_zero_bytes()
    {
        Assert.Equal(new byte[32], ChainStep.GenesisPrevHash.ToArray());
    }

    [Fact]
    public void First_event_of_a_chain_carries_the_all_zero_prev_hash()
    {
        var body = WriteBody(SampleEvents.Minimal(), ChainStep.GenesisPrevHash.ToArray(), 1, 0);

        Assert.Equal(
            "{\"category\":\"security\",\"id\":\"00000000-0000-7000-8000-000000000001\","
            + "\"prev_hash\":\"" + new string('0', 64) + "\",\"seq\":1,\"severity\":\"warning\","
            + "\"timestamp\":\"1970-01-01T00:00:00.000000Z\",\"type\":\"auth.failure\"}",
            Encoding.UTF8.GetString(body));
    }

    [Fact]
    public void Ledger_fields_never_exceed_LedgerFieldsMaxLength()
    {
        var prepared = EventCanonicalizer.Prepare(SampleEvents.Minimal(), false);
        var destination = new byte[prepared.MaxBodyLength];
        var length = ChainStep.WriteBody(prepared, Enumerable.Repeat((byte)0xff, 32).ToArray(), ChainStep.MaxSeq, 253_402_300_799_999_999, destination);

        Assert.Equal(ChainStep.LedgerFieldsMaxLength, length - prepared.Canonical.Length);
    }

    [Fact]
    public void The_largest_seq_is_written_exactly_as_an_independent_canonicalizer_would()
    {
        var body = WriteBody(SampleEvents.Minimal(), new byte[32], ChainStep.MaxSeq, 0);

        Assert.Contains("\"seq\":9007199254740991,", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
        Assert.Equal(body, JsonCanonicalizer.Canonicalize(body));
    }

    [Fact]
    public void WriteBody_rejects_bad_arguments()
    {
        var prepared = EventCanonicalizer.Prepare(SampleEvents.Minimal(), false);
        var destination = new byte[prepared.MaxBodyLength];

        Assert.Throws<ArgumentException>(() => ChainStep.WriteBody(prepared, new byte[31], 1, 0, destination));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChainStep.WriteBody(prepared, new byte[32], 0, 0, destination));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChainStep.WriteBody(prepared, new byte[32], ChainStep.MaxSeq + 1, 0, destination));
        Assert.Throws<ArgumentException>(() => ChainStep.WriteBody(prepared, new byte[32], 1, 0, new byte[prepared.MaxBodyLength - 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChainStep.WriteBody(prepared, new byte[32], 1, long.MaxValue, destination));
    }

    [Fact]
    public void WriteBody_and_ComputeHash_do_not_allocate()
    {
        var prepared = EventCanonicalizer.Prepare(SampleEvents.Full(), true);
        var prevHash = SampleEvents.PrevHash();
        var destination = new byte[prepared.MaxBodyLength];
        var hash = new byte[32];
        ChainStep.ComputeHash(prevHash, destination.AsSpan(0, ChainStep.WriteBody(prepared, prevHash, 1, 0, destination)), hash);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var seq = 1L; seq <= 1000; seq++)
        {
            var length = ChainStep.WriteBody(prepared, prevHash, seq, SampleEvents.TimestampMicros + seq, destination);
            ChainStep.ComputeHash(prevHash, destination.AsSpan(0, length), hash);
            hash.CopyTo(prevHash, 0);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Body_equals_the_rfc_8785_canonical_form_of_the_event_json_with_ledger_fields()
    {
        Gen.Select(CanonicalGen.Event, Gen.Byte.Array[32], Gen.Long[1, ChainStep.MaxSeq], Gen.Long[-62_135_596_800_000_000, 253_402_300_799_999_999])
            .Sample((ev, prevHash, seq, micros) =>
            {
                var body = WriteBody(ev, prevHash, seq, micros);

                // The oracle: serialize with the event's own JSON contract, set the ledger fields, then canonicalize.
                // The two times are set as strings formatted by the framework so their normalization is checked too.
                var json = (JsonObject)JsonSerializer.SerializeToNode(ev with { Seq = seq, PrevHash = Convert.ToHexStringLower(prevHash) }, AuditJsonContext.Default.AuditEvent)!;
                if (ev.OccurredAt is { } occurredAt)
                {
                    json["occurred_at"] = occurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
                }

                json["timestamp"] = DateTime.UnixEpoch.AddTicks(micros * 10).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
                var expected = JsonCanonicalizer.Canonicalize(Encoding.UTF8.GetBytes(json.ToJsonString()));

                Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(body));
                Assert.Equal(expected, body);
            }, iter: 1000);
    }

    internal static byte[] WriteBody(AuditEvent ev, byte[] prevHash, long seq, long micros)
    {
        var prepared = EventCanonicalizer.Prepare(ev, idSuppliedByProducer: true);
        var destination = new byte[prepared.MaxBodyLength];
        var length = ChainStep.WriteBody(prepared, prevHash, seq, micros, destination);
        return destination[..length];
    }
}
