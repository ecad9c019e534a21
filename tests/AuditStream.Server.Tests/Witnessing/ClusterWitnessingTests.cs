using AuditStream.Checkpoints;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Server.Auth;
using AuditStream.Server.Tests.Cluster;
using AuditStream.Server.Tests.Operations;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Witnessing;

/// <summary>
/// Two <c>auditstream serve</c> processes on one PostgreSQL ledger, both configured with the same witness: only the
/// leader submits checkpoints; the follower says so in <c>/ready</c>, sends nothing, and serves the cosigned checkpoint
/// the leader kept in the store.
/// </summary>
[Collection(OnPostgres.Name)]
public sealed class ClusterWitnessingTests(PostgresServer postgres) : IAsyncLifetime
{
    private readonly WitnessFleet _fleet = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _fleet.DisposeAsync();

    [Fact]
    public async Task Only_the_leader_submits_checkpoints_to_the_witness_and_both_instances_serve_them_cosigned()
    {
        var witness = await _fleet.StartAsync("witness.test/cluster");
        await using var cluster = await ClusterInstances.CreateAsync(postgres);
        var settings = _fleet.Settings(1, witness).ToDictionary(kv => kv.Key.Replace(":", "__", StringComparison.Ordinal), kv => kv.Value);
        var first = await cluster.StartAsync(settings);
        var second = await cluster.StartAsync(settings);
        var roles = await Task.WhenAll(ClusterProcessTests.ReadyAsync(cluster, first), ClusterProcessTests.ReadyAsync(cluster, second));
        Assert.Single(roles, r => r.StartsWith("role leader", StringComparison.Ordinal));
        var (leader, follower) = roles[0].StartsWith("role leader", StringComparison.Ordinal) ? (first, second) : (second, first);

        using var producer = cluster.Client(leader, cluster.Token("operator", "acme", AuditClaims.WriteScope));
        await Json.PostEventsAsync(producer, [.. Enumerable.Range(0, 6).Select(i => Json.Event(i))]);

        using var leaderClient = cluster.Client(leader, null);
        var note = await Eventually.GetAsync(
            async () =>
            {
                using var response = await leaderClient.GetAsync("api/v1/ledger/checkpoint/witnessed");
                return response.IsSuccessStatusCode ? await response.Content.ReadAsStringAsync() : null;
            },
            n => n is not null,
            TimeSpan.FromSeconds(60));
        Assert.NotNull(note);
        var parsed = SignedNote.Parse(note);
        Assert.Contains(parsed.Signatures, s => witness.Verifier.Verify(parsed.Text, s, out _));

        using var followerClient = cluster.Client(follower, null);
        var ready = await Json.ReadAsync(await followerClient.GetAsync("ready"));
        Assert.StartsWith("follower", ready["checks"]!["ledger_witnessing"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);

        // The leader keeps the cosignatures in the shared store; the follower loads and serves them, verified.
        var fromFollower = await Eventually.GetAsync(
            async () =>
            {
                using var response = await followerClient.GetAsync("api/v1/ledger/checkpoint/witnessed");
                return response.IsSuccessStatusCode ? await response.Content.ReadAsStringAsync() : null;
            },
            n => n is not null && SignedNote.Parse(n).Text == parsed.Text,
            TimeSpan.FromSeconds(60));
        Assert.NotNull(fromFollower);
        var followerParsed = SignedNote.Parse(fromFollower);
        Assert.Equal(parsed.Text, followerParsed.Text);
        Assert.Contains(followerParsed.Signatures, s => witness.Verifier.Verify(followerParsed.Text, s, out _));

        var leaderMetrics = PrometheusScrape.Parse(await leaderClient.GetStringAsync("metrics"));
        var followerMetrics = PrometheusScrape.Parse(await followerClient.GetStringAsync("metrics"));
        Assert.True(leaderMetrics.Value("audit_witness_submissions_total", ("witness", witness.Name)) >= 1, leaderMetrics.Text);
        Assert.Equal(0, followerMetrics.Value("audit_witness_submissions_total", ("witness", witness.Name)));
    }
}
