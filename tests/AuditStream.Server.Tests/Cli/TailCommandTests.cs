using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Cli;

public sealed class TailCommandTests
{
    [Fact]
    public async Task Tail_json_replays_matching_events_since_a_seq_one_object_per_line()
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        await Json.PostEventsAsync(producer,
            Json.Event(1, type: "consent.granted", category: "compliance"),
            Json.Event(2),
            Json.Event(3, type: "consent.revoked", category: "compliance"),
            Json.Event(4, type: "consent.granted", category: "compliance"));

        var (code, stdout, stderr) = await Support.Cli.RunAsync(null, "tail", "--url", server.BaseAddress.ToString(), "--token", server.Token("auditor"),
            "--since", "1", "--event-types", "consent.*", "--json", "--count", "2");
        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        var events = lines.Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!).ToList();
        Assert.Equal([3L, 4L], events.Select(e => e["seq"]!.GetValue<long>()));
        Assert.Equal(["consent.revoked", "consent.granted"], events.Select(e => e["type"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Tail_prints_readable_lines_and_refuses_bad_filters_and_tokens()
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        await Json.PostEventsAsync(producer, Json.Event(7, type: "auth.failure", severity: "error", category: "security"));

        var readable = await Support.Cli.RunAsync(null, "tail", "--url", server.BaseAddress.ToString(), "--token", server.Token("admin", "*"), "--since", "0", "--count", "1");
        Assert.True(readable.ExitCode == 0, readable.Stderr);
        Assert.Matches(@"^\s+1 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} error\s+auth\.failure user-7 -> record-7 success security", readable.Stdout.Trim('\n'));

        var badFilter = await Support.Cli.RunAsync(null, "tail", "--url", server.BaseAddress.ToString(), "--severities", "loud");
        Assert.Equal(2, badFilter.ExitCode);
        Assert.Contains("severities[0] must be one of", badFilter.Stderr, StringComparison.Ordinal);

        var badToken = await Support.Cli.RunAsync(null, "tail", "--url", server.BaseAddress.ToString(), "--token", "nope");
        Assert.Equal(1, badToken.ExitCode);
        Assert.Contains("401", badToken.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tail_prints_the_ledger_id_and_resumes_by_ledger_id_and_seq_or_is_refused_by_another_ledger()
    {
        await using var server = await TestServer.StartAsync();
        await Json.PostEventsAsync(server.Producer(), Json.Event(1), Json.Event(2), Json.Event(3), Json.Event(4));
        var ledgerId = server.Ledger.LedgerId;
        var url = server.BaseAddress.ToString();
        var token = server.Token("admin", "*");

        var first = await Support.Cli.RunAsync(null, "tail", "--url", url, "--token", token, "--since", "0", "--json", "--count", "1");
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Contains($"connected to ledger {ledgerId} (last seq 4)", first.Stderr, StringComparison.Ordinal);

        var resumed = await Support.Cli.RunAsync(null, "tail", "--url", url, "--token", token, "--since", "2", "--ledger-id", ledgerId, "--json", "--count", "2");
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Equal([3L, 4L], resumed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!["seq"]!.GetValue<long>()));

        const string foreign = "0123456789abcdef0123456789abcdef";
        var refused = await Support.Cli.RunAsync(null, "tail", "--url", url, "--token", token, "--since", "2", "--ledger-id", foreign, "--json");
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal("", refused.Stdout);
        Assert.Contains(foreign, refused.Stderr, StringComparison.Ordinal);
        Assert.Contains(ledgerId, refused.Stderr, StringComparison.Ordinal);

        var noSince = await Support.Cli.RunAsync(null, "tail", "--url", url, "--token", token, "--ledger-id", ledgerId);
        Assert.Equal(2, noSince.ExitCode);
        Assert.Contains("--since", noSince.Stderr, StringComparison.Ordinal);
    }
}
