using System.Net;
using AuditStream.Checkpoints;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Merkle;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Ledger;

/// <summary>The real server and the CLI on a PostgreSQL ledger (<c>AuditStream:Ledger:Provider=Postgres</c>).</summary>
[Collection(OnPostgres.Name)]
public sealed class PostgresLedgerTests(PostgresServer postgres)
{
    private static string NewDirectory() => Path.Combine(Path.GetTempPath(), "auditstream-pg-tests", Guid.NewGuid().ToString("N"));

    private static Dictionary<string, string?> Settings(string connectionString) => new()
    {
        ["AuditStream:Ledger:Provider"] = "Postgres",
        ["AuditStream:Ledger:ConnectionString"] = connectionString,
    };

    [Fact]
    public async Task Events_ingested_on_postgres_read_back_filter_prove_and_survive_a_restart_with_the_chain_intact()
    {
        var connectionString = await postgres.CreateLedgerAsync();
        var data = NewDirectory();
        string firstHash;
        await using (var server = await TestServer.StartAsync(Settings(connectionString), dataDirectory: data))
        {
            Assert.StartsWith("PostgreSQL 127.0.0.1:", server.Ledger.Describe, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(data, "ledger.db")));
            using var producer = server.Producer();
            var receipts = await Json.PostEventsAsync(producer, [.. Enumerable.Range(0, 40).Select(i =>
                Json.Event(i, type: i % 4 == 0 ? "auth.failure" : "data.accessed", severity: i % 5 == 0 ? "critical" : "info"))]);
            firstHash = receipts["events"]![0]!["hash"]!.GetValue<string>();

            using var reader = server.Reader();
            var stored = await Json.ReadAsync(await reader.GetAsync("api/v1/events/1"));
            Assert.Equal(firstHash, stored["hash"]!.GetValue<string>());
            Assert.Equal("acme", stored["tenant_id"]!.GetValue<string>());

            var expected = Enumerable.Range(0, 40).Where(i => i % 4 == 0 && i % 5 == 0).Select(i => (long)i + 1);
            Assert.Equal(expected, await SeqsAsync(reader, "event_types=auth.failure&severities=critical"));
            var byActor = await SeqsAsync(reader, "actor_ids=user-7");
            Assert.Equal([8L], byActor);
            var since = await SeqsAsync(reader, "since_seq=35");
            Assert.Equal([36L, 37, 38, 39, 40], since);

            await VerifyInclusionAsync(server, seq: 17, treeSize: 40);
        }

        await using (var restarted = await TestServer.StartAsync(Settings(connectionString), dataDirectory: data))
        {
            Assert.Equal(40, restarted.Ledger.Head.Size);
            var next = await Json.PostEventsAsync(restarted.Producer(), Json.Event(100));
            Assert.Equal(41, next["events"]![0]!["seq"]!.GetValue<long>());
            var report = await restarted.Ledger.VerifyAsync();
            Assert.True(report.IsValid, report.ToString());
            await VerifyInclusionAsync(restarted, seq: 41, treeSize: 41);
        }

        Directory.Delete(data, recursive: true);
    }

    [Fact]
    public async Task Append_export_and_verify_work_on_postgres_from_options_or_environment_variables()
    {
        var connectionString = await postgres.CreateLedgerAsync();
        var data = NewDirectory();
        var ndjson = string.Join('\n', Enumerable.Range(0, 25).Select(i => Json.Event(i, extra: "\"tenant_id\":\"acme\"")));
        var appended = await Support.Cli.RunAsync(ndjson, "append", "--data", data, "--provider", "postgres", "--connection-string", connectionString);
        Assert.True(appended.ExitCode == 0, appended.Stderr);
        Assert.Equal(25, appended.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.False(File.Exists(Path.Combine(data, "ledger.db")));

        var verified = await Support.Cli.RunAsync(null, "verify", "--data", data, "--provider", "postgres", "--connection-string", connectionString);
        Assert.True(verified.ExitCode == 0, verified.Stdout + verified.Stderr);
        Assert.StartsWith("valid: 25 events", verified.Stdout, StringComparison.Ordinal);

        var environment = new Dictionary<string, string?>
        {
            ["AuditStream__Ledger__Provider"] = "Postgres",
            ["AuditStream__Ledger__ConnectionString"] = connectionString,
        };
        var exportFile = Path.Combine(data, "export.ndjson");
        var exported = await Support.Cli.RunAsync(null, environment, "export", "--data", data, "--out", exportFile);
        Assert.True(exported.ExitCode == 0, exported.Stderr);
        Assert.Equal(25, (await File.ReadAllLinesAsync(exportFile)).Length);
        var fromExport = await Support.Cli.RunAsync(null, "verify", "--export", exportFile);
        Assert.True(fromExport.ExitCode == 0, fromExport.Stdout + fromExport.Stderr);

        var byEnvironment = await Support.Cli.RunAsync(null, environment, "verify", "--data", data);
        Assert.True(byEnvironment.ExitCode == 0, byEnvironment.Stdout + byEnvironment.Stderr);

        // A database without a ledger is not created by a command that only reads; no connection string names the key.
        var empty = await Support.Cli.RunAsync(null, "verify", "--data", data, "--provider", "postgres", "--connection-string", await postgres.CreateLedgerAsync());
        Assert.Equal(2, empty.ExitCode);
        Assert.Contains("No ledger at PostgreSQL", empty.Stderr, StringComparison.Ordinal);
        var missing = await Support.Cli.RunAsync(null, new Dictionary<string, string?> { ["AuditStream__Ledger__ConnectionString"] = null }, "export", "--data", data, "--provider", "postgres");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("AuditStream:Ledger:ConnectionString is required", missing.Stderr, StringComparison.Ordinal);
        Directory.Delete(data, recursive: true);
    }

    private static async Task<long[]> SeqsAsync(HttpClient client, string query)
    {
        using var response = await client.GetAsync("api/v1/events?limit=1000&" + query);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await Json.ReadAsync(response))["events"]!.AsArray().Select(e => e!["seq"]!.GetValue<long>()).ToArray();
    }

    private static async Task VerifyInclusionAsync(TestServer server, long seq, long treeSize)
    {
        using var anonymous = server.Client();
        var key = (await anonymous.GetStringAsync("api/v1/ledger/public-key")).Trim();
        var checkpoint = new CheckpointVerifier(NoteVerifier.Parse(key)).Open(await anonymous.GetStringAsync("api/v1/ledger/checkpoint")).Checkpoint!;
        Assert.Equal(treeSize, checkpoint.TreeSize);

        using var client = server.Client(server.Token("auditor", "acme"));
        var proof = await Json.ReadAsync(await client.GetAsync($"api/v1/ledger/proofs/inclusion?seq={seq}&tree_size={treeSize}"));
        var path = proof["hashes"]!.AsArray().Select(h => Convert.FromHexString(h!.GetValue<string>())).ToList();
        var leaf = MerkleHash.Leaf(Convert.FromHexString(proof["event_hash"]!.GetValue<string>()));
        Assert.True(MerkleProofs.VerifyInclusion(leaf, seq - 1, treeSize, path, checkpoint.RootHash), $"seq {seq}");
    }
}
