using System.Text.Json.Nodes;
using AuditStream.Server.Cli;
using Microsoft.Data.Sqlite;

namespace AuditStream.Server.Tests.Cli;

/// <summary><c>auditstream report integrity</c> and <c>report verify</c> over a real SQLite ledger written by <c>append</c>.</summary>
public sealed class ReportCommandTests
{
    private const string Hostile = "<script>alert(\\\"x\\\")</script>&amp;";
    private const string HostileValue = "<script>alert(\"x\")</script>&amp;";

    private static string NewDirectory() => Path.Combine(Path.GetTempPath(), "auditstream-cli-tests", Guid.NewGuid().ToString("N"));

    private static string Event(int i, string tenant, string category) =>
        $$"""{"type":"{{category}}.done","severity":"info","category":"{{category}}","actor_id":"user-{{i}}","target_id":"record-{{i}}","action":"read","outcome":"success","tenant_id":"{{tenant}}"}""";

    /// <summary>A ledger of 3 acme data events, then (a second run, so a second checkpoint) 2 globex auth events and 1 of a hostile tenant.</summary>
    private static async Task<string> LedgerAsync()
    {
        var data = NewDirectory();
        string[][] runs =
        [
            [Event(1, "acme", "data"), Event(2, "acme", "data"), Event(3, "acme", "data")],
            [Event(4, "globex", "auth"), Event(5, "globex", "auth"), Event(6, Hostile, "data")],
        ];
        foreach (var run in runs)
        {
            var appended = await Support.Cli.RunAsync(string.Join('\n', run), "append", "--data", data);
            Assert.True(appended.ExitCode == 0, appended.Stderr);
        }

        return data;
    }

    private static async Task<(int ExitCode, JsonNode Report, string File)> ReportAsync(string data, params string[] extra)
    {
        var file = Path.Combine(data, $"report-{Guid.NewGuid():N}.json");
        var run = await Support.Cli.RunAsync(null, ["report", "integrity", "--data", data, "--from", "2020-01-01", "--to", "2100-01-01", "--out", file, .. extra]);
        Assert.True(run.ExitCode is 0 or 1, run.Stderr);
        var text = await File.ReadAllTextAsync(file);
        return (run.ExitCode, extra.Contains("html") ? new JsonObject() : JsonNode.Parse(text)!["report"]!, file);
    }

    private static Task<(int ExitCode, string Stdout, string Stderr)> VerifyAsync(string file, string key) =>
        Support.Cli.RunAsync(null, "report", "verify", file, "--key", key);

    [Fact]
    public async Task The_report_of_a_real_ledger_has_its_counts_checkpoint_chain_and_a_signature_the_verifier_key_accepts()
    {
        var data = await LedgerAsync();
        var (exit, report, file) = await ReportAsync(data);

        Assert.Equal(0, exit);
        Assert.Equal("auditstream-integrity-report/v1", (string?)report["format"]);
        Assert.True((bool)report["verification"]!["valid"]!);
        Assert.Equal(6, (long)report["verification"]!["events_checked"]!);
        var events = report["events"]!;
        Assert.Equal(6, (long)events["total"]!);
        Assert.Equal(1, (long)events["first"]!["seq"]!);
        Assert.Equal(6, (long)events["last"]!["seq"]!);
        Assert.Equal(4, (long)events["by_category"]!["data"]!);
        Assert.Equal(2, (long)events["by_category"]!["auth"]!);
        Assert.Equal(3, (long)events["by_tenant"]!["acme"]!);
        Assert.Equal(2, (long)events["by_tenant"]!["globex"]!);
        Assert.Equal(1, (long)events["by_tenant"]![HostileValue]!);

        // One checkpoint per append run (sizes 3 and 6), linked by a consistency proof that checks.
        var checkpoints = report["checkpoints"]!;
        Assert.True((bool)checkpoints["chain_valid"]!);
        Assert.Equal([3L, 6L], checkpoints["signed"]!.AsArray().Select(c => (long)c!["tree_size"]!));
        var link = Assert.Single(checkpoints["consistency"]!.AsArray())!;
        Assert.Equal((3L, 6L, true), ((long)link["from_size"]!, (long)link["to_size"]!, (bool)link["consistent"]!));
        Assert.NotEmpty(link["proof"]!.AsArray());

        var key = (string)report["ledger"]!["verifier_key"]!;
        var verified = await VerifyAsync(file, key);
        Assert.True(verified.ExitCode == 0, verified.Stdout + verified.Stderr);
        Assert.StartsWith("valid signature by auditstream.local/ledger", verified.Stdout, StringComparison.Ordinal);

        // A tenant's report counts only that tenant's events.
        var (_, acme, _) = await ReportAsync(data, "--tenant", "acme");
        Assert.Equal(3, (long)acme["events"]!["total"]!);
        Assert.Equal("acme", (string?)acme["period"]!["tenant_id"]);
        Assert.Single(acme["events"]!["by_tenant"]!.AsObject());

        // A period after the last event counts nothing.
        var empty = Path.Combine(data, "empty.json");
        var later = await Support.Cli.RunAsync(null, "report", "integrity", "--data", data, "--from", "2099-01-01", "--to", "2100-01-01", "--out", empty);
        Assert.Equal(0, later.ExitCode);
        Assert.Equal(0, (long)JsonNode.Parse(await File.ReadAllTextAsync(empty))!["report"]!["events"]!["total"]!);
    }

    [Fact]
    public async Task A_tampered_ledger_gives_a_signed_report_whose_verification_failed_at_the_tampered_seq()
    {
        var data = await LedgerAsync();
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(data, "ledger.db")};Pooling=False"))
        {
            connection.Open();
            using var cmd = connection.CreateCommand();
            cmd.CommandText = "UPDATE events SET body = CAST(replace(CAST(body AS TEXT), 'read', 'wrote') AS BLOB) WHERE seq = 4";
            Assert.Equal(1, cmd.ExecuteNonQuery());
        }

        var (exit, report, file) = await ReportAsync(data);

        Assert.Equal(1, exit);
        var verification = report["verification"]!;
        Assert.False((bool)verification["valid"]!);
        Assert.Equal("modified", (string?)verification["result"]);
        Assert.Equal(4, (long)verification["first_bad_seq"]!);
        Assert.Contains("seq 4", (string?)verification["message"], StringComparison.Ordinal);

        // The evidence of the failure is itself signed.
        var verified = await VerifyAsync(file, (string)report["ledger"]!["verifier_key"]!);
        Assert.True(verified.ExitCode == 0, verified.Stdout + verified.Stderr);
        Assert.Contains("ledger verification modified", verified.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_report_edited_after_signing_or_checked_with_another_key_fails_its_check()
    {
        var data = await LedgerAsync();
        var (_, report, file) = await ReportAsync(data);
        var key = (string)report["ledger"]!["verifier_key"]!;
        var original = await File.ReadAllTextAsync(file);

        // The readable copy edited: 3 acme events become 30.
        var edited = Path.Combine(data, "edited.json");
        await File.WriteAllTextAsync(edited, original.Replace("\"acme\": 3", "\"acme\": 30", StringComparison.Ordinal));
        Assert.NotEqual(original, await File.ReadAllTextAsync(edited));
        var copy = await VerifyAsync(edited, key);
        Assert.Equal(1, copy.ExitCode);
        Assert.Contains("edited after signing", copy.Stdout, StringComparison.Ordinal);

        // The signed text edited too: the signature fails.
        var forged = Path.Combine(data, "forged.json");
        await File.WriteAllTextAsync(forged, original.Replace("\"acme\": 3", "\"acme\": 30", StringComparison.Ordinal).Replace("\\\"acme\\\":3", "\\\"acme\\\":30", StringComparison.Ordinal));
        var signature = await VerifyAsync(forged, key);
        Assert.Equal(1, signature.ExitCode);
        Assert.Contains("does not verify", signature.Stdout, StringComparison.Ordinal);

        // Another key.
        using var other = AuditStream.Checkpoints.NoteSigner.Generate("auditstream.local/ledger");
        var wrongKey = await VerifyAsync(file, other.VerifierKey);
        Assert.Equal(1, wrongKey.ExitCode);

        // An edited HTML page.
        var (_, _, page) = await ReportAsync(data, "--format", "html");
        var html = await File.ReadAllTextAsync(page);
        Assert.Equal(0, (await VerifyAsync(page, key)).ExitCode);
        await File.WriteAllTextAsync(page, html.Replace(">VALID<", ">VALID (reviewed)<", StringComparison.Ordinal));
        var pageCheck = await VerifyAsync(page, key);
        Assert.Equal(1, pageCheck.ExitCode);
        Assert.Contains("page differs", pageCheck.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_html_page_escapes_hostile_tenant_and_category_strings_and_has_no_script()
    {
        var data = await LedgerAsync();
        var (_, _, page) = await ReportAsync(data, "--format", "html");
        var html = await File.ReadAllTextAsync(page);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;amp;", html, StringComparison.Ordinal);
        Assert.Contains("@media print", html, StringComparison.Ordinal);
        Assert.DoesNotContain("src=", html, StringComparison.Ordinal);

        // Categories are [a-z0-9_-] at ingest; the page escapes them anyway: render a signed report's text with a hostile one.
        var note = IntegrityReportHtml.ExtractNote(html)!;
        var report = note[..note.IndexOf('\n', StringComparison.Ordinal)].Replace("\"auth\":2", "\"<img onerror=x>\":2", StringComparison.Ordinal);
        Assert.Contains("<img", report, StringComparison.Ordinal);
        var rendered = IntegrityReportHtml.Render(report, note);
        Assert.DoesNotContain("<img", rendered, StringComparison.Ordinal);
        Assert.Contains("&lt;img onerror=x&gt;", rendered, StringComparison.Ordinal);
    }
}
