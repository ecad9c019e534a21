using System.Net;
using System.Text.Json.Nodes;
using AuditStream.Checkpoints;
using AuditStream.Server.Tests.Streaming;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Privacy;

public sealed class ErasureTests
{
    private static HttpClient Officer(TestServer server, string role = "compliance", string tenant = "acme", bool mfa = true) =>
        server.Client(server.Token(role, tenant, mfa: mfa));

    [Fact]
    public async Task After_erasure_every_read_path_shows_erased_the_certificate_verifies_with_the_public_key_and_the_export_verifies()
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        await Json.PostEventsAsync(producer, PiiEncryptionTests.WithPii(1, "s1", "ann@example.com"), PiiEncryptionTests.WithPii(2, "s2", "bob@example.com"), PiiEncryptionTests.WithPii(3, "s1", "ann2@example.com"));
        using var officer = Officer(server);

        using var response = await officer.PostAsync("api/v1/subjects/s1/erasure", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await Json.ReadAsync(response);
        Assert.False(answer["repeated"]!.GetValue<bool>());
        var publicKey = (await officer.GetStringAsync("api/v1/ledger/public-key")).Trim();
        var opened = SignedNote.Open(answer["signed_note"]!.GetValue<string>(), NoteVerifier.Parse(publicKey));
        Assert.True(opened.Succeeded, opened.Failure?.ToString());
        var certificate = JsonNode.Parse(opened.Text!)!;
        Assert.Equal(answer["certificate"]!.ToJsonString(), certificate.ToJsonString());
        Assert.Equal("s1", certificate["subject_id"]!.GetValue<string>());
        Assert.Equal("acme", certificate["tenant_id"]!.GetValue<string>());
        Assert.Equal("[[1,1],[3,3]]", certificate["affected_seqs"]!.ToJsonString());
        Assert.Equal(4, certificate["erasure_event"]!["seq"]!.GetValue<long>());
        Assert.True(SignedNote.Open(certificate["checkpoint"]!.GetValue<string>(), NoteVerifier.Parse(publicKey)).Succeeded);

        foreach (var role in new[] { "admin", "compliance", "auditor" })
        {
            using var reader = server.Reader(role, "acme");
            Assert.Equal("[erased]", JsonNode.Parse(await reader.GetStringAsync("api/v1/events/1"))!["pii"]!.GetValue<string>());
            var page = JsonNode.Parse(await reader.GetStringAsync("api/v1/events"))!["events"]!.AsArray();
            Assert.Equal("[erased]", page[2]!["pii"]!.GetValue<string>());
            Assert.Equal("privacy.erasure.completed", page[3]!["type"]!.GetValue<string>());
            var export = await reader.GetStringAsync("api/v1/events/export");
            Assert.DoesNotContain("ann", export, StringComparison.Ordinal);
            Assert.Contains(",[erased],", await reader.GetStringAsync("api/v1/events/export?format=csv"), StringComparison.Ordinal);
            var report = await PiiEncryptionTests.VerifyExportAsync(server, reader);
            Assert.True(report.IsValid, report.ToString());
        }

        using var admin = server.Reader("admin", "acme");
        Assert.Equal("bob@example.com", JsonNode.Parse(await admin.GetStringAsync("api/v1/events/2"))!["pii"]!["email"]!.GetValue<string>());
        Assert.True((await server.Ledger.VerifyAsync()).IsValid);

        // Replay over the stream (SSE) from the start: the ring's records show the erasure too.
        await using var stream = await EventStreamClient.ConnectEstablishedAsync(server, server.Token("admin", "acme"), "?since_seq=0");
        var (_, _, first) = await stream.ReceiveAsync();
        Assert.Equal("[erased]", first["audit_event"]!["pii"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_repeated_erasure_reissues_the_certificate_and_appends_nothing()
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        await Json.PostEventsAsync(producer, PiiEncryptionTests.WithPii(1, "s1", "ann@example.com"));
        using var officer = Officer(server, role: "admin");
        using var first = await officer.PostAsync("api/v1/subjects/s1/erasure", null);
        var head = server.Ledger.Head.Size;

        using var again = await officer.PostAsync("api/v1/subjects/s1/erasure", null);

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var answer = await Json.ReadAsync(again);
        Assert.True(answer["repeated"]!.GetValue<bool>());
        Assert.Equal((await Json.ReadAsync(first))["certificate"]!["erasure_event"]!.ToJsonString(), answer["certificate"]!["erasure_event"]!.ToJsonString());
        Assert.Equal(head, server.Ledger.Head.Size);
    }

    [Fact]
    public async Task Another_tenants_subject_answers_like_an_unknown_one_and_stays_readable()
    {
        await using var server = await TestServer.StartAsync();
        using var globex = server.Producer("globex");
        await Json.PostEventsAsync(globex, PiiEncryptionTests.WithPii(1, "s9", "eve@example.com"));
        using var officer = Officer(server);

        using var other = await officer.PostAsync("api/v1/subjects/s9/erasure", null);
        using var unknown = await officer.PostAsync("api/v1/subjects/nobody/erasure", null);

        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal((await Json.ReadAsync(unknown))["title"]!.ToJsonString(), (await Json.ReadAsync(other))["title"]!.ToJsonString());
        using var reader = server.Reader("admin", "globex");
        Assert.Equal("eve@example.com", JsonNode.Parse(await reader.GetStringAsync("api/v1/events/1"))!["pii"]!["email"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("compliance", false, "amr")]
    [InlineData("admin", false, "amr")]
    [InlineData("auditor", true, "role")]
    [InlineData("security", true, "role")]
    public async Task Erasure_needs_compliance_or_admin_signed_in_with_mfa_and_the_refusal_names_the_claim(string role, bool mfa, string claim)
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        await Json.PostEventsAsync(producer, PiiEncryptionTests.WithPii(1, "s1", "ann@example.com"));
        using var caller = Officer(server, role, mfa: mfa);

        using var response = await caller.PostAsync("api/v1/subjects/s1/erasure", null);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var errors = (await Json.ReadAsync(response))["errors"]!.AsArray();
        Assert.Contains(errors, e => e!["field"]!.GetValue<string>() == claim);
        if (claim == "amr")
        {
            Assert.Contains("mfa_required", errors.Single(e => e!["field"]!.GetValue<string>() == "amr")!["rule"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        Assert.Equal(1, server.Ledger.Head.Size);
    }
}
