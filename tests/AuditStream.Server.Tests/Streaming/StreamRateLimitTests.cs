using System.Text.Json.Nodes;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Streaming;

public sealed class StreamRateLimitTests
{
    private static Dictionary<string, string?> Limits(int perSecond, int perMinute) => new()
    {
        ["AuditStream:Hub:RateLimitPerSecond"] = perSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["AuditStream:Hub:RateLimitPerMinute"] = perMinute.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static async Task<long[]> PostAsync(HttpClient producer, int count, int first = 0)
    {
        var receipt = await Json.PostEventsAsync(producer, [.. Enumerable.Range(first, count).Select(i => Json.Event(i))]);
        return [.. receipt["events"]!.AsArray().Select(e => e!["seq"]!.GetValue<long>())];
    }

    /// <summary>Reads until every seq of <paramref name="expected"/> was either delivered or covered by a gap.</summary>
    private static async Task<(List<long> Delivered, List<(long From, long To)> Gaps)> ReadAccountingForAsync(StreamClient client, long[] expected)
    {
        var delivered = new List<long>();
        var gaps = new List<(long From, long To)>();
        var last = expected[^1];
        while ((delivered.Count == 0 || delivered[^1] < last) && (gaps.Count == 0 || gaps[^1].To < last))
        {
            var message = await client.ReceiveAsync();
            switch (message["type"]!.GetValue<string>())
            {
                case "audit.event.published":
                    delivered.Add(message["seq"]!.GetValue<long>());
                    break;
                case "audit.stream.gap":
                    Assert.Equal("rate_limited", message["reason"]!.GetValue<string>());
                    gaps.Add((message["from_seq"]!.GetValue<long>(), message["to_seq"]!.GetValue<long>()));
                    break;
                default:
                    Assert.Fail($"Unexpected message {message.ToJsonString()}");
                    break;
            }
        }

        return (delivered, gaps);
    }

    private static void AssertExactCover(long[] expected, List<long> delivered, List<(long From, long To)> gaps)
    {
        var covered = new List<long>(delivered);
        foreach (var (from, to) in gaps)
        {
            Assert.True(from <= to, $"gap {from}..{to} is empty");
            covered.AddRange(expected.Where(seq => seq >= from && seq <= to));
        }

        covered.Sort();
        Assert.Equal(expected, covered);
    }

    [Fact]
    public async Task Events_over_the_per_second_limit_are_skipped_announced_as_gaps_and_the_next_window_delivers_again()
    {
        await using var server = await TestServer.StartAsync(Limits(5, 1000));
        var (client, established) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"));
        await using var _ = client;
        Assert.Equal(5, established["limits"]!["rate_limit_per_second"]!.GetValue<int>());
        Assert.Equal(1000, established["limits"]!["rate_limit_per_minute"]!.GetValue<int>());
        var producer = server.Producer();

        var burst = await PostAsync(producer, 40);
        var (delivered, gaps) = await ReadAccountingForAsync(client, burst);

        Assert.NotEmpty(gaps);
        Assert.Equal(burst[..5], delivered[..5]);
        Assert.True(delivered.Count <= 5 * (gaps.Count + 1), $"{delivered.Count} delivered with {gaps.Count} gaps");
        AssertExactCover(burst, delivered, gaps);

        // The gap is announced when the window ends, so the next event opens a fresh window.
        var next = await PostAsync(producer, 3, first: 100);
        Assert.Equal(next, await client.ReceiveSeqsThroughAsync(next[^1]));
    }

    [Fact]
    public async Task A_filtered_client_counts_only_matching_events_and_gaps_cover_only_matching_seqs()
    {
        await using var server = await TestServer.StartAsync(Limits(3, 0));
        var (client, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"), "&severities=error");
        await using var _ = client;

        var receipt = await Json.PostEventsAsync(server.Producer(), [.. Enumerable.Range(0, 30).Select(i => Json.Event(i, severity: i % 2 == 0 ? "error" : "info"))]);
        var seqs = receipt["events"]!.AsArray().Select(e => e!["seq"]!.GetValue<long>()).ToArray();
        var matching = seqs.Where((_, i) => i % 2 == 0).ToArray();

        var (delivered, gaps) = await ReadAccountingForAsync(client, matching);

        Assert.Equal(matching[..3], delivered[..3]);
        Assert.NotEmpty(gaps);
        Assert.All(gaps, gap => Assert.Contains(gap.From, matching));
        Assert.All(gaps, gap => Assert.Contains(gap.To, matching));
        AssertExactCover(matching, delivered, gaps);
    }

    [Fact]
    public async Task Replay_is_not_rate_limited()
    {
        await using var server = await TestServer.StartAsync(Limits(5, 10));
        var written = await PostAsync(server.Producer(), 40);

        var (client, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"), "&since_seq=0");
        await using var _ = client;

        Assert.Equal(written, await client.ReceiveSeqsThroughAsync(written[^1]));
        JsonNode caughtUp = await client.ReceiveAsync();
        Assert.Equal("audit.stream.caught_up", caughtUp["type"]!.GetValue<string>());
    }
}
