using System.Text.Json.Nodes;
using AuditStream.Events;
using AuditStream.Filters;
using AuditStream.Ledger;
using AuditStream.Security;
using AuditStream.Streaming.Clients;
using AuditStream.Streaming.Hub;
using AuditStream.Streaming.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace AuditStream.Streaming.Tests.Clients;

/// <summary>
/// One client end to end over an in-memory transport, a real ledger (SQLite in a temp directory) and a fake clock for
/// its own timers: replay then live in seq order, answers to its messages, the close paths, the rate-limit gap.
/// </summary>
public sealed class ClientConnectionTests : IAsyncLifetime
{
    private const string LedgerId = "0123456789abcdef0123456789abcdef";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "auditstream-streaming-tests", Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly FakeTransport _transport = new();
    private AuditLedger _ledger = null!;
    private FanOut _fanOut = null!;

    public async Task InitializeAsync()
    {
        _ledger = await AuditLedger.OpenAsync(new LedgerOptions { DataDirectory = _directory, CheckpointInterval = TimeSpan.FromHours(1) });
        _fanOut = new FanOut(_ledger.Feed, new PublishedFrameCache(), TimeSpan.Zero, TimeSpan.Zero, TimeProvider.System, NullLogger.Instance);
    }

    public async Task DisposeAsync()
    {
        await _fanOut.DisposeAsync();
        await _ledger.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private static HubOptions Options(Action<HubOptions>? change = null)
    {
        var options = new HubOptions { RateLimitPerSecond = 0, RateLimitPerMinute = 0 };
        change?.Invoke(options);
        return options;
    }

    private ClientConnection NewClient(long? sinceSeq = null, HubOptions? options = null) =>
        new("c1", _transport, new ClientRequest(AccessScope.ForAllTenants(Role.Admin), _ledger.Feed, new StreamFilter(), sinceSeq, LedgerId: LedgerId), options ?? Options(), _fanOut, _time, NullLogger.Instance);

    private static List<long> Seqs(FakeTransport transport) =>
        [.. transport.Frames.Where(f => f.Type == "audit.event.published").Select(f => f.EventId!.Value)];

    private static JsonNode Last(FakeTransport transport, string type) => JsonNode.Parse(transport.Frames.Last(f => f.Type == type).Json)!;

    [Fact]
    public async Task A_replay_goes_in_seq_order_to_caught_up_and_then_live_events_follow_without_gap_or_duplicate()
    {
        await AppendAsync(5);
        using var client = NewClient(sinceSeq: 2);
        var running = client.RunAsync(CancellationToken.None);

        await _transport.WaitForAsync(t => t.Types.Contains("audit.stream.caught_up"));
        await WaitForAsync(() => _fanOut.LiveClients == 1);
        await AppendAsync(3);
        await _transport.WaitForAsync(t => Seqs(t).Count == 6);
        _transport.ClientLeaves();
        await running.WaitAsync(FakeTransport.Timeout);

        Assert.Equal("audit.connection.established", _transport.Types[0]);
        Assert.Equal([3L, 4, 5, 6, 7, 8], Seqs(_transport));
        Assert.Equal(4, _transport.Types.IndexOf("audit.stream.caught_up"));
        Assert.Equal(6, client.Delivered);

        // The client left first: no close frame from the server, and the transport was finished.
        Assert.DoesNotContain(_transport.Log, entry => entry.StartsWith("close:", StringComparison.Ordinal));
        Assert.Equal("complete", _transport.Log[^1]);
        Assert.Equal(0, _fanOut.LiveClients);
    }

    [Fact]
    public async Task A_ping_gets_a_pong_and_a_message_of_unknown_type_an_error_naming_the_field()
    {
        using var client = NewClient();
        var running = client.RunAsync(CancellationToken.None);

        _transport.SendFromClient("""{"type":"ping"}""");
        _transport.SendFromClient("""{"type":"subscribe"}""");
        await _transport.WaitForAsync(t => t.Types.Contains("audit.error"));
        _transport.ClientLeaves();
        await running.WaitAsync(FakeTransport.Timeout);

        Assert.Equal(["audit.connection.established", "audit.connection.pong", "audit.error"], _transport.Types);
        Assert.Equal("type", Last(_transport, "audit.error")["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_server_stopping_closes_with_1001_after_the_queued_frames_and_a_since_seq_to_resume_at()
    {
        await AppendAsync(4);
        using var stopping = new CancellationTokenSource();
        using var client = NewClient(sinceSeq: 0);
        var running = client.RunAsync(stopping.Token);
        await _transport.WaitForAsync(t => t.Types.Contains("audit.stream.caught_up"));
        await WaitForAsync(() => _fanOut.LiveClients == 1);

        await stopping.CancelAsync();
        await _transport.WaitForAsync(t => t.Log.Any(entry => entry.StartsWith("close:", StringComparison.Ordinal)));
        _transport.ClientLeaves();
        await running.WaitAsync(FakeTransport.Timeout);

        Assert.Equal(1001, await client.CloseRequested);
        Assert.Equal($"close:1001:server_stopping since_seq=4 ledger_id={LedgerId}", _transport.Log.Single(entry => entry.StartsWith("close:", StringComparison.Ordinal)));
        Assert.Equal("complete", _transport.Log[^1]);
    }

    [Fact]
    public async Task Messages_over_the_inbound_limit_get_one_rate_limited_error_and_persistent_abuse_closes_with_1008()
    {
        using var client = NewClient(options: Options(o =>
        {
            o.MaxInboundMessagesPerSecond = 2;
            o.MaxInboundViolations = 2;
        }));
        var running = client.RunAsync(CancellationToken.None);

        // The fake clock does not move: one window; the third message is answered, the fourth ignored.
        for (var i = 0; i < 4; i++)
        {
            _transport.SendFromClient("""{"type":"ping"}""");
        }

        await _transport.WaitForAsync(t => t.Types.Contains("audit.error"));
        Assert.Equal(["audit.connection.established", "audit.connection.pong", "audit.connection.pong", "audit.error"], _transport.Types);
        Assert.Equal("rate_limited", Last(_transport, "audit.error")["code"]!.GetValue<string>());

        // The next window over the limit too: the second violation in a row closes the client.
        _time.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < 3; i++)
        {
            _transport.SendFromClient("""{"type":"ping"}""");
        }

        await _transport.WaitForAsync(t => t.Log.Any(entry => entry.StartsWith("close:", StringComparison.Ordinal)));
        _transport.ClientLeaves();
        await running.WaitAsync(FakeTransport.Timeout);
        Assert.Contains("close:1008:policy_violation", _transport.Log);
    }

    [Fact]
    public async Task Live_events_over_the_budget_are_announced_as_one_gap_when_the_window_ends()
    {
        using var client = NewClient(options: Options(o => o.RateLimitPerSecond = 1));
        var running = client.RunAsync(CancellationToken.None);
        await WaitForAsync(() => _fanOut.LiveClients == 1);

        await AppendAsync(3);
        await WaitForAsync(() => _fanOut.DispatchedSeq == 3);
        await _transport.WaitForAsync(t => Seqs(t).Count == 1);
        Assert.DoesNotContain("audit.stream.gap", _transport.Types);

        _time.Advance(TimeSpan.FromSeconds(1));
        await _transport.WaitForAsync(t => t.Types.Contains("audit.stream.gap"));
        _transport.ClientLeaves();
        await running.WaitAsync(FakeTransport.Timeout);

        Assert.Equal([1L], Seqs(_transport));
        var gap = Last(_transport, "audit.stream.gap");
        Assert.Equal(2, gap["from_seq"]!.GetValue<long>());
        Assert.Equal(3, gap["to_seq"]!.GetValue<long>());
        Assert.Equal(2, client.Dropped);
    }

    [Fact]
    public async Task A_live_client_whose_queue_fills_is_closed_with_4008_after_what_it_was_given()
    {
        _transport.Hold();
        using var client = NewClient(options: Options(o => o.ClientBufferSize = 4));
        var running = client.RunAsync(CancellationToken.None);
        await _transport.FlushStarted;
        await WaitForAsync(() => _fanOut.LiveClients == 1);

        await AppendAsync(10);
        Assert.Equal(4008, await client.CloseRequested.WaitAsync(FakeTransport.Timeout));
        _transport.Release();
        await _transport.WaitForAsync(t => t.Log.Any(entry => entry.StartsWith("close:", StringComparison.Ordinal)));
        _transport.ClientLeaves();
        await running.WaitAsync(FakeTransport.Timeout);

        Assert.Equal("close:4008:slow_consumer", _transport.Log[^2]);
        Assert.Equal([1L, 2, 3, 4], Seqs(_transport));
        Assert.True(client.Dropped >= 4);
    }

    [Fact]
    public async Task A_resume_naming_another_ledger_gets_ledger_mismatch_and_no_events()
    {
        await AppendAsync(3);
        using var client = NewClient();
        var running = client.RunAsync(CancellationToken.None);

        _transport.SendFromClient("""{"type":"resume","since_seq":0,"ledger_id":"fedcba9876543210fedcba9876543210"}""");
        await _transport.WaitForAsync(t => t.Types.Contains("audit.error"));
        _transport.SendFromClient("""{"type":"ping"}""");
        await _transport.WaitForAsync(t => t.Types.Contains("audit.connection.pong"));
        _transport.ClientLeaves();
        await running.WaitAsync(FakeTransport.Timeout);

        Assert.Equal("ledger_mismatch", Last(_transport, "audit.error")["code"]!.GetValue<string>());
        Assert.Empty(Seqs(_transport));
    }

    private Task AppendAsync(int count) => LedgerTestSteps.AppendAsync(_ledger, count);

    private static Task WaitForAsync(Func<bool> condition) => LedgerTestSteps.WaitForAsync(condition);
}
