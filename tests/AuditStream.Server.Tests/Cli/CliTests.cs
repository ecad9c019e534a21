using System.Net;
using AuditStream.Server.Tests.Support;
using Microsoft.Data.Sqlite;

namespace AuditStream.Server.Tests.Cli;

public sealed class CliTests
{
    private static string NewDirectory() => Path.Combine(Path.GetTempPath(), "auditstream-cli-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Token_issue_prints_only_a_token_the_server_accepts()
    {
        var data = NewDirectory();
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?> { ["AuditStream:Auth:SigningKey"] = null }, dataDirectory: data);
        var (code, stdout, stderr) = await Support.Cli.RunAsync(null, "token", "issue", "--role", "operator", "--tenant", "acme", "--scope", "audit:write", "--ttl", "15m", "--data", data);
        Assert.True(code == 0, stderr);
        var token = stdout.Trim();
        Assert.Equal(3, token.Split('.').Length);
        Assert.DoesNotContain('\n', token);

        using var client = server.Client(token);
        using var response = await client.PostAsync("api/v1/events", Json.Content(Json.Event(1)));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);

        var bad = await Support.Cli.RunAsync(null, "token", "issue", "--role", "superuser", "--data", data);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--role must be one of", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_exits_0_when_valid_1_with_the_first_bad_seq_when_tampered_and_2_on_usage_errors()
    {
        var data = NewDirectory();
        await using (var server = await TestServer.StartAsync(dataDirectory: data))
        {
            using var producer = server.Producer();
            await Json.PostEventsAsync(producer, [.. Enumerable.Range(0, 50).Select(i => Json.Event(i))]);
            await File.WriteAllTextAsync(Path.Combine(data, "trusted.checkpoint"), await server.Client().GetStringAsync("api/v1/ledger/checkpoint"));
        }

        var valid = await Support.Cli.RunAsync(null, "verify", "--data", data, "--checkpoint", Path.Combine(data, "trusted.checkpoint"));
        Assert.True(valid.ExitCode == 0, valid.Stdout + valid.Stderr);
        Assert.StartsWith("valid: 50 events", valid.Stdout, StringComparison.Ordinal);

        using (var connection = new SqliteConnection($"Data Source={Path.Combine(data, "ledger.db")};Pooling=False"))
        {
            connection.Open();
            using var cmd = connection.CreateCommand();
            cmd.CommandText = "UPDATE events SET body = CAST(replace(CAST(body AS TEXT), 'read', 'wrote') AS BLOB) WHERE seq = 17";
            Assert.Equal(1, cmd.ExecuteNonQuery());
        }

        var tampered = await Support.Cli.RunAsync(null, "verify", "--data", data);
        Assert.Equal(1, tampered.ExitCode);
        Assert.Contains("modified at seq 17", tampered.Stdout, StringComparison.Ordinal);

        Assert.Equal(2, (await Support.Cli.RunAsync(null, "verify", "--data", NewDirectory())).ExitCode);
        Assert.Equal(2, (await Support.Cli.RunAsync(null, "verify", "--no-such-option")).ExitCode);
        Assert.Equal(2, (await Support.Cli.RunAsync(null, "verify", "--data", data, "--export", "x.ndjson")).ExitCode);
    }

    [Fact]
    public async Task Append_reads_ndjson_from_stdin_and_export_then_verify_export_round_trips()
    {
        var data = NewDirectory();
        var ndjson = string.Join('\n', Enumerable.Range(0, 30).Select(i => Json.Event(i, extra: "\"tenant_id\":\"acme\"")));
        var appended = await Support.Cli.RunAsync(ndjson, "append", "--data", data);
        Assert.True(appended.ExitCode == 0, appended.Stderr);
        var receipts = appended.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(30, receipts.Length);
        Assert.StartsWith("1 ", receipts[0], StringComparison.Ordinal);

        var invalid = await Support.Cli.RunAsync(Json.Event(1, severity: "loud"), "append", "--data", data);
        Assert.Equal(1, invalid.ExitCode);
        Assert.Contains("line 1: severity must be one of", invalid.Stderr, StringComparison.Ordinal);

        var exportFile = Path.Combine(data, "export.ndjson");
        var exported = await Support.Cli.RunAsync(null, "export", "--data", data, "--out", exportFile);
        Assert.True(exported.ExitCode == 0, exported.Stderr);
        Assert.Equal(30, File.ReadLines(exportFile).Count());
        var verified = await Support.Cli.RunAsync(null, "verify", "--export", exportFile);
        Assert.True(verified.ExitCode == 0, verified.Stdout + verified.Stderr);

        var lines = File.ReadAllLines(exportFile);
        lines[9] = lines[9].Replace("\"read\"", "\"deleted\"", StringComparison.Ordinal);
        await File.WriteAllLinesAsync(exportFile, lines);
        var broken = await Support.Cli.RunAsync(null, "verify", "--export", exportFile);
        Assert.Equal(1, broken.ExitCode);
        Assert.Contains("seq 10", broken.Stdout, StringComparison.Ordinal);

        var csv = await Support.Cli.RunAsync(null, "export", "--data", data, "--format", "csv");
        Assert.Equal(31, csv.Stdout.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task Append_with_url_posts_to_a_running_server()
    {
        await using var server = await TestServer.StartAsync();
        var ndjson = string.Join('\n', Enumerable.Range(0, 5).Select(i => Json.Event(i)));
        var result = await Support.Cli.RunAsync(ndjson, "append", "--url", server.BaseAddress.ToString(), "--token", server.ProducerToken());
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(5, result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(5, server.Ledger.Head.Size);
    }

    [Fact]
    public async Task Help_is_available_for_every_command()
    {
        foreach (var command in new[] { Array.Empty<string>(), ["serve"], ["token", "issue"], ["verify"], ["export"], ["bundle"], ["append"], ["witness"] })
        {
            var (code, stdout, _) = await Support.Cli.RunAsync(null, [.. command, "--help"]);
            Assert.Equal(0, code);
            Assert.Contains("Usage:", stdout, StringComparison.Ordinal);
        }
    }
}
