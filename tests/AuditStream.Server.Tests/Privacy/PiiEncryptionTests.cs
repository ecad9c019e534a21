using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AuditStream.Ledger.Verification;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Privacy;

public sealed class PiiEncryptionTests
{
    internal static string WithPii(int i, string subject, string marker, string? id = null) =>
        Json.Event(i, type: "consent.granted", category: "compliance",
            extra: $"{(id is null ? "" : $"\"id\":\"{id}\",")}\"subject_id\":\"{subject}\",\"pii\":{{\"email\":\"{marker}\"}}");

    internal static async Task<VerificationReport> VerifyExportAsync(TestServer server, HttpClient reader)
    {
        var export = await reader.GetStringAsync("api/v1/events/export");
        var key = await reader.GetStringAsync("api/v1/ledger/public-key");
        return await ExportVerifier.VerifyAsync(new StringReader(export), new VerificationOptions { VerifierKey = key.Trim() }, CancellationToken.None);
    }

    [Fact]
    public async Task Compliance_reads_pii_decrypted_an_auditor_masked_and_both_exports_verify_with_the_envelope()
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        await Json.PostEventsAsync(producer, WithPii(1, "s1", "ann@example.com"));
        using var compliance = server.Reader("compliance", "acme");
        using var auditor = server.Reader("auditor", "acme");

        var clear = JsonNode.Parse(await compliance.GetStringAsync("api/v1/events/1"))!;
        var masked = JsonNode.Parse(await auditor.GetStringAsync("api/v1/events/1"))!;

        Assert.Equal("ann@example.com", clear["pii"]!["email"]!.GetValue<string>());
        Assert.Equal("[masked]", masked["pii"]!.GetValue<string>());
        Assert.Equal("A256GCM", masked["pii_envelope"]!["alg"]!.GetValue<string>());
        Assert.Equal(clear["pii_envelope"]!.ToJsonString(), masked["pii_envelope"]!.ToJsonString());
        Assert.DoesNotContain("ann@example.com", await auditor.GetStringAsync("api/v1/events/export"), StringComparison.Ordinal);
        Assert.DoesNotContain("ann@example.com", await auditor.GetStringAsync("api/v1/events/export?format=csv"), StringComparison.Ordinal);
        Assert.Contains("ann@example.com", await compliance.GetStringAsync("api/v1/events/export?format=csv"), StringComparison.Ordinal);
        foreach (var reader in new[] { compliance, auditor })
        {
            var report = await VerifyExportAsync(server, reader);
            Assert.True(report.IsValid, report.ToString());
            Assert.Equal(1, report.EventsChecked);
        }
    }

    [Fact]
    public async Task No_plaintext_pii_reaches_the_ledger_the_index_the_key_store_or_their_write_ahead_logs()
    {
        await using var server = await TestServer.StartAsync();
        var marker = "marker-" + Guid.NewGuid().ToString("N");
        using var producer = server.Producer();
        await Json.PostEventsAsync(producer, WithPii(1, "s1", marker), WithPii(2, "s2", marker + "-2"));
        using var admin = server.Reader("admin", "acme");
        Assert.Contains(marker, await admin.GetStringAsync("api/v1/events/1"), StringComparison.Ordinal);

        var files = Directory.GetFiles(server.DataDirectory, "*", SearchOption.AllDirectories);
        Assert.Contains(files, f => f.EndsWith("ledger.db-wal", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("subject-keys.db", StringComparison.Ordinal));
        var needle = Encoding.UTF8.GetBytes(marker);
        foreach (var file in files)
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"{Path.GetFileName(file)} holds the plaintext pii");
        }
    }

    [Fact]
    public async Task A_retry_with_the_same_pii_is_a_duplicate_and_the_same_id_with_other_pii_a_conflict()
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        var id = Guid.CreateVersion7().ToString();
        using var firstPost = await producer.PostAsync("api/v1/events", Json.Content(WithPii(1, "s1", "ann@example.com", id)));
        using var retryPost = await producer.PostAsync("api/v1/events", Json.Content(WithPii(1, "s1", "ann@example.com", id)));
        var first = await Json.ReadAsync(firstPost);
        var retry = await Json.ReadAsync(retryPost);

        Assert.Equal(first["seq"]!.GetValue<long>(), retry["seq"]!.GetValue<long>());
        Assert.True(retry["duplicate"]!.GetValue<bool>());
        using var conflict = await producer.PostAsync("api/v1/events", Json.Content(WithPii(1, "s1", "bob@example.com", id)));
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
    }

    [Fact]
    public async Task Pii_without_a_subject_is_refused_naming_the_field_and_the_rule()
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        using var response = await producer.PostAsync("api/v1/events", Json.Content(Json.Event(1, extra: "\"pii\":{\"email\":\"x@example.com\"}")));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["errors"]![0]!;
        Assert.Equal("pii", error["field"]!.GetValue<string>());
        Assert.Contains("pii_requires_subject_id", error["rule"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_producer_may_not_send_a_pii_envelope()
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        using var response = await producer.PostAsync("api/v1/events", Json.Content(Json.Event(1, extra: "\"pii_envelope\":{\"alg\":\"A256GCM\"}")));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("pii_envelope", (await Json.ReadAsync(response))["errors"]![0]!["field"]!.GetValue<string>());
    }
}

public sealed class MasterKeyConfigurationTests
{
    [Theory]
    [InlineData("AuditStream:Ledger:Privacy:MasterKeys:mk-2027", true)]
    [InlineData("AuditStream:Ledger:Privacy:MasterKeyFile", false)]
    [InlineData("AuditStream:Ledger:Privacy:ActiveMasterKeyId", false)]
    public void Configured_master_keys_are_never_printed(string key, bool secret) =>
        Assert.Equal(secret, AuditStream.Server.Operations.EffectiveConfiguration.IsSecret(key));
}
