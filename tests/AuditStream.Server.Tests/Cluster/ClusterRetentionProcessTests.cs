using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Server.Auth;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Cluster;

/// <summary>Scheduled retention on two <c>auditstream serve</c> instances of one PostgreSQL ledger: the leader sweeps, the follower does not.</summary>
[Collection(OnPostgres.Name)]
public sealed partial class ClusterRetentionProcessTests(PostgresServer postgres)
{
    [Fact]
    public async Task Only_the_leader_runs_the_scheduled_sweep_and_the_follower_counts_its_ticks_as_skipped()
    {
        await using var cluster = await ClusterInstances.CreateAsync(postgres);
        var settings = new Dictionary<string, string?>
        {
            ["AuditStream__Ledger__Privacy__MasterKeys__mk-1"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["AuditStream__Ledger__Privacy__Retention__0__Tenant"] = "acme",
            ["AuditStream__Ledger__Privacy__Retention__0__MaxAge"] = "00:00:00",
            ["AuditStream__Ledger__Privacy__RetentionInterval"] = "00:00:00.200",
        };
        var leader = await cluster.StartAsync(settings);
        var follower = await cluster.StartAsync(settings);
        Assert.Contains("role leader", await ClusterProcessTests.ReadyAsync(cluster, leader), StringComparison.Ordinal);
        Assert.Contains("role follower", await ClusterProcessTests.ReadyAsync(cluster, follower), StringComparison.Ordinal);

        using var producer = cluster.Client(follower, cluster.Token("operator", "acme", AuditClaims.WriteScope));
        await Json.PostEventsAsync(producer, Json.Event(1, type: "consent.granted", category: "compliance", extra: "\"subject_id\":\"s1\",\"pii\":{\"email\":\"ann@example.com\"}"));

        await UntilAsync(cluster, leader, "audit_retention_subjects_shredded_total", "", 1);
        await UntilAsync(cluster, follower, "audit_retention_scheduled_runs_total", "outcome=\"follower\"", 3);

        Assert.Equal(0, await MetricAsync(cluster, follower, "audit_retention_scheduled_runs_total", "outcome=\"applied\""));
        Assert.Equal(0, await MetricAsync(cluster, follower, "audit_retention_subjects_shredded_total", ""));
        Assert.Equal(0, await MetricAsync(cluster, leader, "audit_retention_scheduled_runs_total", "outcome=\"follower\""));
        using var admin = cluster.Client(leader, cluster.Token("admin", "acme"));
        var events = (await Json.ReadAsync(await admin.GetAsync("api/v1/events")))["events"]!.AsArray();
        Assert.Equal(["consent.granted", "privacy.erasure.completed"], events.Select(e => e!["type"]!.GetValue<string>()).Order());
        Assert.Equal("[erased]", events.Single(e => e!["seq"]!.GetValue<long>() == 1)!["pii"]!.GetValue<string>());
    }

    private static async Task UntilAsync(ClusterInstances cluster, ServerProcess instance, string name, string label, double atLeast)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await MetricAsync(cluster, instance, name, label) < atLeast)
        {
            // Each tick is 200 ms apart; wait for the next scrape's export rather than spinning.
            await Task.Delay(100, deadline.Token);
        }
    }

    private static async Task<double> MetricAsync(ClusterInstances cluster, ServerProcess instance, string name, string label)
    {
        using var client = cluster.Client(instance, null);
        var text = await client.GetStringAsync("metrics");
        foreach (Match line in MetricLine().Matches(text))
        {
            if (line.Groups["name"].Value == name && line.Groups["labels"].Value.Contains(label, StringComparison.Ordinal))
            {
                return double.Parse(line.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    [GeneratedRegex(@"^(?<name>audit_retention_[a-z_]+)(\{(?<labels>[^}]*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex MetricLine();
}
