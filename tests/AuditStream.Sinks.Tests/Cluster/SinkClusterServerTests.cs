using System.Net;
using System.Text;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Server.Sinks;
using AuditStream.Server.Tests.Support;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace AuditStream.Sinks.Tests.Cluster;

/// <summary>
/// Two real servers (in-process, on loopback) on one PostgreSQL ledger with the same webhook sink: the sinks API of
/// either shows who runs the sink, and dead letters are listed and re-driven from the one that does not.
/// </summary>
[Collection(OnPostgres.Name)]
public sealed class SinkClusterServerTests(PostgresServer postgres) : IAsyncLifetime
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _data = new();
    private FakeReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await FakeReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        _data.Dispose();
    }

    [Fact]
    public async Task Either_instance_shows_the_owner_and_lists_and_redrives_the_shared_dead_letters()
    {
        var refuse = true;
        _receiver.Handler = r => refuse && Encoding.UTF8.GetString(r.Body).Contains("record-2", StringComparison.Ordinal)
            ? new Reply(400, "{\"error\":\"bad record\"}")
            : new Reply(204, "");
        await using var pair = await StartPairAsync();
        var (owner, running, other, idle) = (pair.Owner, pair.Running, pair.Other, pair.Idle);

        await Json.PostEventsAsync(owner.Producer(), Json.Event(1), Json.Event(2), Json.Event(3));
        await running.WaitForPositionAsync(3, Timeout());
        Assert.Null(idle.Lease);

        foreach (var server in new[] { owner, other })
        {
            var status = (await Json.ReadAsync(await server.Reader("admin").GetAsync("api/v1/sinks")))["sinks"]![0]!;
            Assert.Equal("node-a", status["owner"]!.GetValue<string>());
            Assert.Equal(3, status["position"]!.GetValue<long>());
            var expiresAt = status["lease_expires_at"]!.GetValue<DateTimeOffset>();
            Assert.InRange(expiresAt, DateTimeOffset.UtcNow - TimeSpan.FromSeconds(10), DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30));
        }

        // The dead letter recorded by node-a is node-b's to list and re-drive (server admins only, as on one instance).
        var admin = other.Reader("admin");
        using (var tenantAdmin = await other.Reader("admin", "acme").GetAsync("api/v1/sinks/hook/dead-letters"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, tenantAdmin.StatusCode);
        }

        var letter = Assert.Single((await Json.ReadAsync(await admin.GetAsync("api/v1/sinks/hook/dead-letters")))["dead_letters"]!.AsArray())!;
        Assert.Equal(2, letter["seq"]!.GetValue<long>());
        refuse = false;
        var before = _receiver.Requests.Count;
        using (var accepted = await admin.PostAsync("api/v1/sinks/hook/dead-letters/redrive?seq=2", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        // A second request is served after the first, so when it completes the first is done.
        await idle.RedriveAsync([]).WaitAsync(s_timeout);
        Assert.Null(idle.Lease);
        Assert.Empty((await Json.ReadAsync(await owner.Reader("admin").GetAsync("api/v1/sinks/hook/dead-letters")))["dead_letters"]!.AsArray());
        var redriven = Assert.Single(_receiver.Requests.Skip(before));
        Assert.Contains("record-2", Encoding.UTF8.GetString(redriven.Body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Redrives_asked_of_both_instances_at_once_deliver_each_dead_letter_once()
    {
        var refuse = true;
        _receiver.Handler = _ => refuse ? new Reply(400, "{\"error\":\"bad record\"}") : new Reply(204, "");
        await using var pair = await StartPairAsync();
        var (owner, running, other, idle) = (pair.Owner, pair.Running, pair.Other, pair.Idle);

        // Each event alone in its batch, so each is its own dead letter.
        for (var i = 1; i <= 6; i++)
        {
            await Json.PostEventsAsync(owner.Producer(), Json.Event(i));
            await running.WaitForPositionAsync(i, Timeout());
        }

        Assert.Equal(6, (await Json.ReadAsync(await owner.Reader("admin").GetAsync("api/v1/sinks/hook/dead-letters")))["dead_letters"]!.AsArray().Count);
        refuse = false;
        var before = _receiver.Requests.Count;

        // The owner re-drives from its run loop, the other from its idle loop; without one claim across the cluster both
        // would list the same six letters and deliver them twice.
        var redriven = await Task.WhenAll(running.RedriveAsync(null), idle.RedriveAsync(null)).WaitAsync(s_timeout);
        Assert.Equal(6, redriven.Sum());
        var delivered = _receiver.Requests.Skip(before).Select(r => Encoding.UTF8.GetString(r.Body)).ToList();
        for (var i = 1; i <= 6; i++)
        {
            Assert.Single(delivered, body => body.Contains($"record-{i}\"", StringComparison.Ordinal));
        }

        Assert.Empty((await Json.ReadAsync(await other.Reader("admin").GetAsync("api/v1/sinks/hook/dead-letters")))["dead_letters"]!.AsArray());
    }

    [Fact]
    public async Task On_sqlite_the_one_instance_owns_every_sink_and_no_lease_expires()
    {
        _receiver.Handler = _ => new Reply(204, "");
        var settings = Settings("", "solo");
        settings.Remove("AuditStream:Ledger:Provider");
        settings.Remove("AuditStream:Ledger:ConnectionString");
        await using var server = await TestServer.StartAsync(settings, dataDirectory: _data.Path);
        await Json.PostEventsAsync(server.Producer(), Json.Event(1));
        await server.Services.GetRequiredService<SinksService>().Find("hook")!.WaitForPositionAsync(1, Timeout());

        var status = (await Json.ReadAsync(await server.Reader("admin").GetAsync("api/v1/sinks")))["sinks"]![0]!;
        Assert.Equal(("solo", 1L), (status["owner"]!.GetValue<string>(), status["position"]!.GetValue<long>()));
        Assert.Null(status["lease_expires_at"]);
        Assert.True(File.Exists(Path.Combine(_data.Path, "sinks.db")));
    }

    /// <summary>node-a, holding the sink's lease, then node-b on the same ledger, which does not run it.</summary>
    private async Task<Pair> StartPairAsync()
    {
        var database = await postgres.CreateLedgerAsync();

        // The instances share the data directory for the checkpoint signer key, as a cluster shares its one key.
        var owner = await TestServer.StartAsync(Settings(database, "node-a"), dataDirectory: _data.Path);
        var running = owner.Services.GetRequiredService<SinksService>().Find("hook")!;
        await running.WaitForLeaseAsync(holding: true, Timeout());
        var other = await TestServer.StartAsync(Settings(database, "node-b"), dataDirectory: _data.Path);
        return new Pair(owner, running, other, other.Services.GetRequiredService<SinksService>().Find("hook")!);
    }

    private sealed record Pair(TestServer Owner, SinkRunner Running, TestServer Other, SinkRunner Idle) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Other.DisposeAsync();
            await Owner.DisposeAsync();
        }
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(s_timeout).Token;

    private Dictionary<string, string?> Settings(string database, string instance) => new()
    {
        ["AuditStream:Ledger:Provider"] = "Postgres",
        ["AuditStream:Ledger:ConnectionString"] = database,
        ["AuditStream:Cluster:InstanceId"] = instance,
        ["AuditStream:Sinks:LeaseDuration"] = "00:00:05",
        ["AuditStream:Sinks:Webhooks:0:Name"] = "hook",
        ["AuditStream:Sinks:Webhooks:0:Url"] = _receiver.BaseAddress + "hook",
        ["AuditStream:Sinks:Webhooks:0:Linger"] = "00:00:00.010",
    };
}
