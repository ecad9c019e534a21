using System.Net;
using System.Security.Cryptography;
using AuditStream.Server.Auth;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Auth;

/// <summary>Every 401 and 403 of the authorization middleware is a problem detail that names the claim and the rule.</summary>
public sealed class RefusalProblemTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await Json.PostEventsAsync(_server.Producer(), Json.Event(1));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("GET", "api/v1/events", "user", "acme", "role", "must be a role that receives audit events: admin, security, compliance, operator or auditor")]
    [InlineData("GET", "api/v1/events/1", "user", "acme", "role", "must be a role that receives audit events: admin, security, compliance, operator or auditor")]
    [InlineData("GET", "api/v1/events/export?format=csv", "user", "acme", "role", "must be a role that receives audit events: admin, security, compliance, operator or auditor")]
    [InlineData("GET", "api/v1/events", "auditor", null, "tenant", "is missing: a token names one tenant in 'tenant', or every tenant with 'tenants': '*'")]
    [InlineData("GET", "api/v1/events/export", "admin", null, "tenant", "is missing: a token names one tenant in 'tenant', or every tenant with 'tenants': '*'")]
    [InlineData("GET", "api/v1/sinks", "security", "*", "role", "must be admin")]
    [InlineData("POST", "api/v1/sinks/none/dead-letters/redrive", "operator", "*", "role", "must be admin")]
    [InlineData("GET", "debug/websocket/audit/stats", "operator", "*", "role", "must be admin")]
    [InlineData("GET", "debug/websocket/audit/clients", "auditor", "acme", "role", "must be admin")]
    [InlineData("POST", "api/v1/events", "admin", "acme", "scope", "must include audit:write")]
    public async Task A_forbidden_request_names_the_claim_and_the_rule_it_fails(string method, string path, string role, string? tenant, string claim, string rule)
    {
        using var client = _server.Client(_server.Token(role, tenant));
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "POST" ? Json.Content(Json.Event(2)) : null };
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await Json.ReadAsync(response);
        Assert.Equal(403, problem["status"]!.GetValue<int>());
        var error = Assert.Single(problem["errors"]!.AsArray())!;
        Assert.Equal(claim, error["field"]!.GetValue<string>());
        Assert.Equal(rule, error["rule"]!.GetValue<string>());
        Assert.Contains(claim, problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_failing_two_rules_is_told_both()
    {
        using var client = _server.Client(_server.Token("user", tenant: null));
        using var response = await client.GetAsync("api/v1/events");
        var fields = (await Json.ReadAsync(response))["errors"]!.AsArray().Select(e => e!["field"]!.GetValue<string>());
        Assert.Equal(["tenant", "role"], fields);
    }

    [Theory]
    [InlineData("api/v1/events")]
    [InlineData("api/v1/events/export")]
    [InlineData("api/v1/ledger/proofs/inclusion?seq=1")]
    [InlineData("api/v1/ledger/proofs/consistency?from=1")]
    [InlineData("api/v1/sinks")]
    [InlineData("debug/websocket/audit/config")]
    public async Task A_request_without_a_token_is_told_to_send_one(string path)
    {
        using var client = _server.Client();
        using var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        var error = Assert.Single((await Json.ReadAsync(response))["errors"]!.AsArray())!;
        Assert.Equal("authorization", error["field"]!.GetValue<string>());
        Assert.Equal("must be 'Bearer <JWT>'", error["rule"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_refused_token_is_told_which_claim_or_check_failed()
    {
        var otherKey = new TokenIssuer(RandomNumberGenerator.GetBytes(32), new AuthOptions(), TimeProvider.System).Issue("admin", "*", [], TimeSpan.FromHours(1));
        var wrongAudience = _server.Token("admin", "*", audience: "someone-else");
        foreach (var (token, claim, rule) in new[]
        {
            (otherKey, "signature", "must verify with the server's signing key"),
            (wrongAudience, "aud", "must be auditstream"),
        })
        {
            using var client = _server.Client(token);
            using var response = await client.GetAsync("api/v1/ledger/proofs/inclusion?seq=1");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var error = Assert.Single((await Json.ReadAsync(response))["errors"]!.AsArray())!;
            Assert.True(claim == error["field"]!.GetValue<string>(), error.ToJsonString());
            Assert.Equal(rule, error["rule"]!.GetValue<string>());
        }
    }
}
