using HdrHistogram;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using AuditStream.LoadGen.Stats;
using AuditStream.LoadGen.Subscribe;

namespace AuditStream.LoadGen.Tests;

/// <summary>
/// Commit → socket latency (issue 14's follower goal): a subscriber told to time from the commit reads the event's
/// <c>timestamp</c> (the ledger's commit time) instead of the producer's send time, and only for events sent in the window.
/// </summary>
public sealed class CommitLatencyTests
{
    [Theory]
    [InlineData("2026-12-04T14:06:16.123456Z")]
    [InlineData("2024-02-29T23:59:59.999999Z")]
    [InlineData("1970-01-01T00:00:00.000001Z")]
    public void A_commit_time_reads_as_the_microseconds_it_names(string text)
    {
        Assert.True(CommitTime.TryParseMicros(Encoding.ASCII.GetBytes(text + "\",\"next\":1"), out var micros));

        var expected = DateTimeOffset.ParseExact(text, "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        Assert.Equal((expected.UtcTicks - DateTime.UnixEpoch.Ticks) / 10, micros);
    }

    [Theory]
    [InlineData("2026-12-04T14:06:16.12345Z")]
    [InlineData("2026-13-04T14:06:16.123456Z")]
    [InlineData("2026-02-30T14:06:16.123456Z")]
    [InlineData("2026-12-04 14:06:16.123456Z")]
    [InlineData("2026-12-04T14:06:16.1234x6Z")]
    [InlineData("2026-12-04T24:06:16.123456Z")]
    public void Anything_else_is_not_a_commit_time(string text)
    {
        Assert.False(CommitTime.TryParseMicros(Encoding.ASCII.GetBytes(text), out _));
    }

    [Fact]
    public async Task A_subscriber_timing_from_the_commit_records_now_minus_the_events_timestamp()
    {
        var sent = Stopwatch.GetTimestamp();
        LatencyRecorder.SetWindow(sent, long.MaxValue);
        var committed = DateTime.UtcNow.AddMilliseconds(-250).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
        var message = "{\"type\":\"audit.event.published\",\"seq\":7,\"audit_event\":{\"id\":\"x\",\"timestamp\":\"" + committed
            + "\",\"metadata\":{\"sent_ts\":" + sent + "}}}";

        using var loopback = await Loopback.OpenAsync();
        var reader = new SubscriberConnection(loopback.Client, new byte[16 * 1024], 0, WireProtocol.AuditStream, LatencyOrigin.Commit);
        var running = Task.Run(() => reader.RunAsync(CancellationToken.None));
        await loopback.SendFrameAsync(0x1, Encoding.UTF8.GetBytes(message));
        await loopback.SendFrameAsync(0x8, [0x03, 0xE8]);
        await running.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, reader.Published);
        Assert.Equal(1, reader.LatencySamples);
        // The sample is at least the 250 ms since the commit (a send → socket sample here would be microseconds).
        Assert.InRange(LatencyRecorder.Merge().GetValueAtPercentile(100), 250_000, 60_000_000);
    }
}
