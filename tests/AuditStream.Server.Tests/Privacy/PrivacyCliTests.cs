using System.Net;
using System.Text.Json.Nodes;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Privacy;

public sealed class PrivacyCliTests
{
    [Fact]
    public async Task Token_issue_with_mfa_can_erase_and_keys_rotate_rewraps_while_erased_stays_erased_and_the_rest_readable()
    {
        var data = Path.Combine(Path.GetTempPath(), "auditstream-cli-tests", Guid.NewGuid().ToString("N"));
        var secret = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        var environment = new Dictionary<string, string?> { ["AuditStream__Auth__SigningKey"] = Convert.ToBase64String(secret) };
        await using (var server = await TestServer.StartAsync(dataDirectory: data, secret: secret))
        {
            using var producer = server.Producer();
            await Json.PostEventsAsync(producer, PiiEncryptionTests.WithPii(1, "s1", "ann@example.com"), PiiEncryptionTests.WithPii(2, "s2", "bob@example.com"));
            var (code, stdout, stderr) = await Support.Cli.RunAsync(null, environment, "token", "issue", "--role", "compliance", "--tenant", "acme", "--mfa", "--data", data);
            Assert.True(code == 0, stderr);
            using var officer = server.Client(stdout.Trim());
            using var erased = await officer.PostAsync("api/v1/subjects/s1/erasure", null);
            Assert.Equal(HttpStatusCode.OK, erased.StatusCode);
        }

        var masterKeys = Path.Combine(data, "master-keys.key");
        var before = await File.ReadAllLinesAsync(masterKeys);
        var rotate = await Support.Cli.RunAsync(null, "keys", "rotate", "--data", data);
        Assert.True(rotate.ExitCode == 0, rotate.Stderr);
        Assert.Contains("re-wrapped 1 data key(s)", rotate.Stdout, StringComparison.Ordinal);

        // Retire the old master key: only the new one is left, and the ledger was never rewritten.
        var after = await File.ReadAllLinesAsync(masterKeys);
        await File.WriteAllLinesAsync(masterKeys, after.Except(before));
        await using var restarted = await TestServer.StartAsync(dataDirectory: data);
        using var admin = restarted.Reader("admin", "acme");
        Assert.Equal("[erased]", JsonNode.Parse(await admin.GetStringAsync("api/v1/events/1"))!["pii"]!.GetValue<string>());
        Assert.Equal("bob@example.com", JsonNode.Parse(await admin.GetStringAsync("api/v1/events/2"))!["pii"]!["email"]!.GetValue<string>());
        Assert.True((await restarted.Ledger.VerifyAsync()).IsValid);
    }
}
