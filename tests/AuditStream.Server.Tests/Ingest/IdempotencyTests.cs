using System.Net;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Ingest;

/// <summary>Idempotency by id is scoped to the tenant, and a re-sent id must carry the same content (issue 13, item 1).</summary>
public sealed class IdempotencyTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Another_tenants_event_with_the_same_id_neither_suppresses_nor_leaks_into_a_tenants_own_event()
    {
        var id = Guid.NewGuid();
        using var beta = _server.Producer("beta");
        using var acme = _server.Producer("acme");
        using var betaPost = await beta.PostAsync("api/v1/events", Json.Content(Json.Event(1, extra: $"\"id\":\"{id}\",\"metadata\":{{\"secret\":\"beta-only\"}}")));
        Assert.Equal(HttpStatusCode.Created, betaPost.StatusCode);
        var betaReceipt = await Json.ReadAsync(betaPost);

        using var acmePost = await acme.PostAsync("api/v1/events", Json.Content(Json.Event(2, extra: $"\"id\":\"{id}\"")));
        var acmeText = await acmePost.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, acmePost.StatusCode);
        var acmeReceipt = System.Text.Json.Nodes.JsonNode.Parse(acmeText)!;
        Assert.False(acmeReceipt["duplicate"]!.GetValue<bool>());
        Assert.Equal(2, acmeReceipt["seq"]!.GetValue<long>());
        Assert.DoesNotContain(betaReceipt["hash"]!.GetValue<string>(), acmeText, StringComparison.Ordinal);

        // Acme reads the seq it was given: its own event, not beta's.
        using var acmeReader = _server.Client(_server.Token("auditor", "acme"));
        var stored = await Json.ReadAsync(await acmeReader.GetAsync("api/v1/events/2"));
        Assert.Equal("acme", stored["tenant_id"]!.GetValue<string>());
        Assert.Equal("user-2", stored["actor_id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await acmeReader.GetAsync("api/v1/events/1")).StatusCode);

        // Each tenant's resend is its own duplicate.
        using var betaAgain = await beta.PostAsync("api/v1/events", Json.Content(Json.Event(1, extra: $"\"id\":\"{id}\",\"metadata\":{{\"secret\":\"beta-only\"}}")));
        Assert.Equal(HttpStatusCode.OK, betaAgain.StatusCode);
        Assert.Equal(1, (await Json.ReadAsync(betaAgain))["seq"]!.GetValue<long>());
        Assert.Equal(2, _server.Ledger.Head.Size);
    }

    [Fact]
    public async Task A_resent_id_with_other_content_is_refused_409_naming_id_and_nothing_is_written()
    {
        var id = Guid.NewGuid();
        using var client = _server.Producer();
        using var first = await client.PostAsync("api/v1/events", Json.Content(Json.Event(1, extra: $"\"id\":\"{id}\"")));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        using var changed = await client.PostAsync("api/v1/events", Json.Content(Json.Event(1, severity: "critical", extra: $"\"id\":\"{id}\"")));
        Assert.Equal(HttpStatusCode.Conflict, changed.StatusCode);
        Assert.Equal("application/problem+json", changed.Content.Headers.ContentType!.MediaType);
        var problem = await Json.ReadAsync(changed);
        var error = Assert.Single(problem["errors"]!.AsArray())!;
        Assert.Equal("id", error["field"]!.GetValue<string>());
        Assert.Contains("seq 1", error["rule"]!.GetValue<string>(), StringComparison.Ordinal);

        // In a batch the whole request is refused: the good event beside it is not written either.
        using var batch = await client.PostAsync("api/v1/events", Json.Content($"[{Json.Event(7)},{Json.Event(1, severity: "critical", extra: $"\"id\":\"{id}\"")}]"));
        Assert.Equal(HttpStatusCode.Conflict, batch.StatusCode);
        Assert.Equal(1, Assert.Single((await Json.ReadAsync(batch))["errors"]!.AsArray())!["index"]!.GetValue<int>());
        Assert.Equal(1, _server.Ledger.Head.Size);

        // The original content is still answered as a duplicate: a producer's retry is safe.
        using var retry = await client.PostAsync("api/v1/events", Json.Content(Json.Event(1, extra: $"\"id\":\"{id}\"")));
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.True((await Json.ReadAsync(retry))["duplicate"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_resent_id_with_other_content_is_refused_after_a_restart_too()
    {
        var data = Path.Combine(Path.GetTempPath(), "auditstream-server-tests", Guid.NewGuid().ToString("N"));
        var id = Guid.NewGuid();
        byte[] secret;
        await using (var server = await TestServer.StartAsync(dataDirectory: data))
        {
            secret = server.Secret;
            using var client = server.Producer();
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("api/v1/events", Json.Content(Json.Event(1, extra: $"\"id\":\"{id}\"")))).StatusCode);
        }

        await using var restarted = await TestServer.StartAsync(dataDirectory: data, secret: secret);
        using var again = restarted.Producer();
        Assert.Equal(HttpStatusCode.Conflict, (await again.PostAsync("api/v1/events", Json.Content(Json.Event(9, extra: $"\"id\":\"{id}\"")))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await again.PostAsync("api/v1/events", Json.Content(Json.Event(1, extra: $"\"id\":\"{id}\"")))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await restarted.Producer("beta").PostAsync("api/v1/events", Json.Content(Json.Event(9, extra: $"\"id\":\"{id}\"")))).StatusCode);
    }
}
