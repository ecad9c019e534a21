using System.Net;
using System.Text.Json.Nodes;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Privacy;

public sealed class RetentionTests
{
    // MaxAge zero: every committed event is past it, so the rule is what decides (category compliance of tenant acme).
    private static readonly Dictionary<string, string?> Rule = new()
    {
        ["AuditStream:Ledger:Privacy:Retention:0:Tenant"] = "acme",
        ["AuditStream:Ledger:Privacy:Retention:0:Categories:0"] = "compliance",
        ["AuditStream:Ledger:Privacy:Retention:0:MaxAge"] = "00:00:00",
    };

    private static string Pii(int i, string subject, string marker, string category = "compliance") =>
        Json.Event(i, type: "consent.granted", category: category, extra: $"\"subject_id\":\"{subject}\",\"pii\":{{\"email\":\"{marker}\"}}");

    [Fact]
    public async Task The_dry_run_counts_and_shreds_nothing_apply_shreds_the_covered_subjects_only_and_verify_still_passes()
    {
        await using var server = await TestServer.StartAsync(Rule);
        using var acme = server.Producer();
        using var globex = server.Producer("globex");
        await Json.PostEventsAsync(acme, Pii(1, "s1", "ann@example.com"), Pii(2, "s1", "ann2@example.com"), Pii(3, "s2", "bob@example.com", category: "data"));
        await Json.PostEventsAsync(globex, Pii(4, "s1", "eve@example.com"));
        using var admin = server.Reader("admin", "acme");

        var preview = JsonNode.Parse(await admin.GetStringAsync("api/v1/retention/preview"))!;

        Assert.False(preview["applied"]!.GetValue<bool>());
        Assert.Equal(1, preview["subjects"]!.GetValue<int>());
        Assert.Equal("""[{"tenant_id":"acme","category":"compliance","events":2}]""", preview["events"]!.ToJsonString());
        Assert.Equal("ann@example.com", JsonNode.Parse(await admin.GetStringAsync("api/v1/events/1"))!["pii"]!["email"]!.GetValue<string>());
        var head = server.Ledger.Head.Size;

        using var apply = await admin.PostAsync("api/v1/retention/apply", null);

        Assert.Equal(HttpStatusCode.OK, apply.StatusCode);
        var applied = await Json.ReadAsync(apply);
        Assert.True(applied["applied"]!.GetValue<bool>());
        Assert.Equal(preview["events"]!.ToJsonString(), applied["events"]!.ToJsonString());
        Assert.Equal("[erased]", JsonNode.Parse(await admin.GetStringAsync("api/v1/events/1"))!["pii"]!.GetValue<string>());
        Assert.Equal("[erased]", JsonNode.Parse(await admin.GetStringAsync("api/v1/events/2"))!["pii"]!.GetValue<string>());
        // s2's only event is of a category no rule covers.
        Assert.Equal("bob@example.com", JsonNode.Parse(await admin.GetStringAsync("api/v1/events/3"))!["pii"]!["email"]!.GetValue<string>());
        // The same subject id in another tenant is another subject, and the rule names acme only.
        using var globexAdmin = server.Reader("admin", "globex");
        Assert.Equal("eve@example.com", JsonNode.Parse(await globexAdmin.GetStringAsync("api/v1/events/4"))!["pii"]!["email"]!.GetValue<string>());
        // One erasure event per shredded subject, by the retention actor; no row was rewritten.
        Assert.Equal(head + 1, server.Ledger.Head.Size);
        var erasure = JsonNode.Parse(await admin.GetStringAsync($"api/v1/events/{head + 1}"))!;
        Assert.Equal("privacy.erasure.completed", erasure["type"]!.GetValue<string>());
        Assert.Equal("system:retention", erasure["actor_id"]!.GetValue<string>());
        Assert.True((await server.Ledger.VerifyAsync()).IsValid);
        using var everyTenant = server.Reader();
        var exported = await PiiEncryptionTests.VerifyExportAsync(server, everyTenant);
        Assert.True(exported.IsValid, exported.ToString());

        var scrape = await AuditStream.Server.Tests.Operations.PrometheusScrape.ReadWhenAsync(server, 1, "audit_retention_subjects_shredded_total");
        Assert.Equal(1, scrape.Value("audit_retention_subjects_shredded_total"));
        Assert.Equal(1, scrape.Value("audit_retention_runs_total", ("mode", "apply")));
        var again = JsonNode.Parse(await admin.GetStringAsync("api/v1/retention/preview"))!;
        Assert.Equal(0, again["subjects"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_tenant_admin_sees_only_its_own_tenant_in_the_dry_run()
    {
        var rule = new Dictionary<string, string?>(Rule) { ["AuditStream:Ledger:Privacy:Retention:0:Tenant"] = "*" };
        await using var server = await TestServer.StartAsync(rule);
        using var globex = server.Producer("globex");
        await Json.PostEventsAsync(globex, Pii(1, "s9", "eve@example.com"));
        using var acmeAdmin = server.Reader("admin", "acme");

        var preview = JsonNode.Parse(await acmeAdmin.GetStringAsync("api/v1/retention/preview"))!;
        using var apply = await acmeAdmin.PostAsync("api/v1/retention/apply", null);

        Assert.Equal(0, preview["subjects"]!.GetValue<int>());
        Assert.Equal("[]", preview["events"]!.ToJsonString());
        Assert.Equal(0, (await Json.ReadAsync(apply))["subjects"]!.GetValue<int>());
        using var serverAdmin = server.Reader();
        Assert.Equal("""[{"tenant_id":"globex","category":"compliance","events":1}]""",
            JsonNode.Parse(await serverAdmin.GetStringAsync("api/v1/retention/preview"))!["events"]!.ToJsonString());
        using var globexAdmin = server.Reader("admin", "globex");
        Assert.Equal("eve@example.com", JsonNode.Parse(await globexAdmin.GetStringAsync("api/v1/events/1"))!["pii"]!["email"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("compliance")]
    [InlineData("auditor")]
    public async Task A_non_admin_is_refused_with_403_naming_the_role(string role)
    {
        await using var server = await TestServer.StartAsync(Rule);
        using var producer = server.Producer();
        await Json.PostEventsAsync(producer, Pii(1, "s1", "ann@example.com"));
        using var caller = server.Reader(role, "acme");

        using var preview = await caller.GetAsync("api/v1/retention/preview");
        using var apply = await caller.PostAsync("api/v1/retention/apply", null);

        foreach (var response in new[] { preview, apply })
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains((await Json.ReadAsync(response))["errors"]!.AsArray(), e => e!["field"]!.GetValue<string>() == "role");
        }

        Assert.Equal(1, server.Ledger.Head.Size);
    }
}
