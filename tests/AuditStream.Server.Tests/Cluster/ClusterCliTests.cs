using AuditStream.Ledger.Tests.Support;
using AuditStream.Server.Auth;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Cluster;

/// <summary>
/// <c>auditstream append</c> straight to a shared PostgreSQL ledger: it writes (as the elected writer) while no server
/// holds the lease, and while one does it writes nothing and names the leader and the command to use instead.
/// </summary>
[Collection(OnPostgres.Name)]
public sealed class ClusterCliTests(PostgresServer postgres)
{
    [Fact]
    public async Task A_local_append_commits_while_no_server_leads_and_is_refused_naming_the_leader_while_one_does()
    {
        await using var cluster = await ClusterInstances.CreateAsync(postgres);
        var data = Path.Combine(Path.GetTempPath(), "auditstream-cluster-cli", Guid.NewGuid().ToString("N"));

        var alone = await Support.Cli.RunAsync(Json.Event(1) + "\n" + Json.Event(2) + "\n", cluster.Environment(), "append", "--data", data, "--tenant", "acme");
        Assert.True(alone.ExitCode == 0, alone.Stdout + alone.Stderr);
        Assert.Equal(["1", "2"], alone.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]));

        // It gave the lease up on exit: a server started now leads at once and continues the chain.
        var server = await cluster.StartAsync(new Dictionary<string, string?> { ["AuditStream__Cluster__InstanceId"] = "node-cli-test" });
        Assert.StartsWith("role leader", await ClusterProcessTests.ReadyAsync(cluster, server), StringComparison.Ordinal);

        var refused = await Support.Cli.RunAsync(Json.Event(3) + "\n", cluster.Environment(), "append", "--data", data, "--tenant", "acme");
        Assert.True(refused.ExitCode == 3, $"exit {refused.ExitCode}: {refused.Stdout}{refused.Stderr}");
        Assert.Empty(refused.Stdout);
        Assert.Contains("led by instance node-cli-test", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains($"auditstream append --url {server.BaseAddress.ToString().TrimEnd('/')} ", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("nothing was appended", refused.Stderr, StringComparison.Ordinal);

        // The server still leads and the next seq is 3: the refused process wrote nothing.
        using var producer = cluster.Client(server, cluster.Token("operator", "acme", AuditClaims.WriteScope));
        var next = await Json.PostEventsAsync(producer, Json.Event(4));
        Assert.Equal(3, next["events"]![0]!["seq"]!.GetValue<long>());
        Assert.StartsWith("role leader", await ClusterProcessTests.ReadyAsync(cluster, server), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_integrity_reads_a_postgres_ledger_by_its_provider_and_connection_string_and_signs_what_it_counted()
    {
        await using var cluster = await ClusterInstances.CreateAsync(postgres);
        var data = Path.Combine(Path.GetTempPath(), "auditstream-cluster-cli", Guid.NewGuid().ToString("N"));
        var environment = cluster.Environment();
        var appended = await Support.Cli.RunAsync(Json.Event(1) + "\n" + Json.Event(2, category: "auth") + "\n", environment, "append", "--data", data, "--tenant", "acme");
        Assert.True(appended.ExitCode == 0, appended.Stdout + appended.Stderr);
        var file = Path.Combine(data, "report.json");

        var report = await Support.Cli.RunAsync(null, environment, "report", "integrity", "--data", data, "--provider", "postgres", "--connection-string", cluster.ConnectionString,
            "--from", "2020-01-01", "--to", "2100-01-01", "--out", file);

        Assert.True(report.ExitCode == 0, report.Stdout + report.Stderr);
        var body = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(file))!["report"]!;
        Assert.True((bool)body["verification"]!["valid"]!);
        Assert.Equal(2, (long)body["events"]!["by_tenant"]!["acme"]!);
        Assert.Equal(1, (long)body["events"]!["by_category"]!["auth"]!);
        var verified = await Support.Cli.RunAsync(null, "report", "verify", file, "--key", (string)body["ledger"]!["verifier_key"]!);
        Assert.True(verified.ExitCode == 0, verified.Stdout + verified.Stderr);
    }
}
