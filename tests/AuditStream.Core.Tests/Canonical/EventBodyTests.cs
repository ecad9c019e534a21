using System.Text;
using System.Text.Json;
using AuditStream.Canonical;
using AuditStream.Events;
using CsCheck;

namespace AuditStream.Core.Tests.Canonical;

public sealed class EventBodyTests
{
    [Fact]
    public void Parse_reads_every_field_of_a_spelled_out_body()
    {
        var parsed = EventBody.Parse(Encoding.UTF8.GetBytes(SampleEvents.FullBody));

        AssertSameEvent(SampleEvents.Full(), parsed);
        Assert.Equal(42, parsed.Seq);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 12, 0, 1, TimeSpan.Zero).AddTicks(1230), parsed.Timestamp);
        Assert.Equal("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", parsed.PrevHash);
        Assert.Null(parsed.Hash);
    }

    [Fact]
    public void Prepare_then_WriteBody_then_Parse_gives_back_the_event_with_ledger_fields_set()
    {
        Gen.Select(CanonicalGen.Event, Gen.Byte.Array[32], Gen.Long[1, ChainStep.MaxSeq], Gen.Long[-62_135_596_800_000_000, 253_402_300_799_999_999])
            .Sample((ev, prevHash, seq, micros) =>
            {
                var parsed = EventBody.Parse(ChainStepTests.WriteBody(ev, prevHash, seq, micros));

                AssertSameEvent(ev, parsed);
                Assert.Equal(seq, parsed.Seq);
                Assert.Equal(micros, Timestamps.ToMicros(parsed.Timestamp!.Value));
                Assert.Equal(TimeSpan.Zero, parsed.Timestamp.Value.Offset);
                Assert.Equal(Convert.ToHexStringLower(prevHash), parsed.PrevHash);
            }, iter: 500);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("{\"type\":\"x\",\"unknown_field\":1}")]
    [InlineData("[]")]
    public void Parse_rejects_bodies_that_are_not_events(string body)
    {
        Assert.ThrowsAny<JsonException>(() => EventBody.Parse(Encoding.UTF8.GetBytes(body)));
    }

    private static void AssertSameEvent(AuditEvent expected, AuditEvent actual)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Type, actual.Type);
        Assert.Equal(expected.Severity, actual.Severity);
        Assert.Equal(expected.Category, actual.Category);
        Assert.Equal(expected.ActorId, actual.ActorId);
        Assert.Equal(expected.ActorType, actual.ActorType);
        Assert.Equal(expected.TargetId, actual.TargetId);
        Assert.Equal(expected.TargetType, actual.TargetType);
        Assert.Equal(expected.Action, actual.Action);
        Assert.Equal(expected.Outcome, actual.Outcome);

        // The same instant; the offset comes back as UTC.
        Assert.Equal(expected.OccurredAt, actual.OccurredAt);
        Assert.Equal(expected.OccurredAt is null ? null : TimeSpan.Zero, actual.OccurredAt?.Offset);
        Assert.Equal(expected.TenantId, actual.TenantId);
        Assert.Equal(expected.SubjectId, actual.SubjectId);
        Assert.Equal(expected.Source, actual.Source);
        AssertSameJson(expected.Pii, actual.Pii);
        AssertSameJson(expected.Metadata, actual.Metadata);
        Assert.Equal(expected.Compliance, actual.Compliance);
    }

    private static void AssertSameJson(JsonElement? expected, JsonElement? actual)
    {
        Assert.Equal(expected.HasValue, actual.HasValue);
        if (expected is { } e && actual is { } a)
        {
            Assert.True(JsonElement.DeepEquals(e, a), $"{e.GetRawText()} != {a.GetRawText()}");
        }
    }
}
