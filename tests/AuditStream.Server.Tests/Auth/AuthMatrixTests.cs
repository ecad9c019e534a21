using System.Net;
using System.Security.Cryptography;
using AuditStream.Server.Auth;
using AuditStream.Server.Tests.Support;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace AuditStream.Server.Tests.Auth;

public sealed class AuthMatrixTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await Json.PostEventsAsync(_server.Producer(), Json.Event(1));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>The status of <c>GET /api/v1/events</c>; a 401 or 403 must name its claim, field or rule.</summary>
    private async Task<HttpStatusCode> GetAsync(string? token)
    {
        using var client = _server.Client(token);
        using var response = await client.GetAsync("api/v1/events");
        await AssertNamedIfRefusedAsync(response, "GET api/v1/events");
        return response.StatusCode;
    }

    /// <summary>
    /// A 401 or 403 must be a problem detail whose <c>errors</c> name a field (the claim, parameter or <c>rule</c>) and
    /// the rule broken; a bare status, or a generic problem without <c>errors</c>, fails. Returns whether it was a refusal.
    /// </summary>
    internal static async Task<bool> AssertNamedIfRefusedAsync(HttpResponseMessage response, string what)
    {
        if (response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden))
        {
            return false;
        }

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{what} → {(int)response.StatusCode} is not a problem detail: '{body}'");
        var errors = System.Text.Json.Nodes.JsonNode.Parse(body)!["errors"]?.AsArray();
        Assert.True(errors is { Count: > 0 }, $"{what} → {(int)response.StatusCode} names no claim, field or rule: {body}");
        foreach (var error in errors!)
        {
            Assert.False(string.IsNullOrWhiteSpace(error!["field"]?.GetValue<string>()), $"{what}: an error without a field: {body}");
            Assert.False(string.IsNullOrWhiteSpace(error["rule"]?.GetValue<string>()), $"{what}: an error without a rule: {body}");
        }

        return true;
    }

    [Fact]
    public async Task No_token_is_401()
    {
        using var client = _server.Client();
        using var response = await client.GetAsync("api/v1/events");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        Assert.True(await AssertNamedIfRefusedAsync(response, "GET api/v1/events"));
    }

    [Fact]
    public async Task An_expired_token_is_401() =>
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(
            new TokenIssuer(_server.Secret, new AuthOptions(), new ShiftedTime(TimeSpan.FromHours(-2))).Issue("admin", "*", [], TimeSpan.FromMinutes(5))));

    [Fact]
    public async Task A_token_signed_with_another_key_is_401() =>
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(
            new TokenIssuer(RandomNumberGenerator.GetBytes(32), new AuthOptions(), TimeProvider.System).Issue("admin", "*", [], TimeSpan.FromHours(1))));

    [Fact]
    public async Task A_token_for_another_audience_is_401() =>
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(_server.Token("admin", "*", audience: "someone-else")));

    [Fact]
    public async Task A_token_for_another_issuer_is_401() =>
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(
            new TokenIssuer(_server.Secret, new AuthOptions { Issuer = "evil" }, TimeProvider.System).Issue("admin", "*", [], TimeSpan.FromHours(1))));

    [Fact]
    public async Task A_garbage_token_is_401() => Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync("not.a.jwt"));

    [Theory]
    [InlineData("admin", HttpStatusCode.OK)]
    [InlineData("security", HttpStatusCode.OK)]
    [InlineData("compliance", HttpStatusCode.OK)]
    [InlineData("operator", HttpStatusCode.OK)]
    [InlineData("auditor", HttpStatusCode.OK)]
    [InlineData("user", HttpStatusCode.Forbidden)]
    [InlineData("root", HttpStatusCode.Forbidden)]
    public async Task Each_role_reads_events_only_if_it_receives_them(string role, HttpStatusCode expected) =>
        Assert.Equal(expected, await GetAsync(_server.Token(role, "acme")));

    [Fact]
    public async Task A_token_with_neither_a_tenant_nor_all_tenants_is_403_on_reads() =>
        Assert.Equal(HttpStatusCode.Forbidden, await GetAsync(_server.Token("admin", tenant: null)));

    [Fact]
    public async Task Another_tenants_token_sees_none_of_this_tenants_events()
    {
        using var client = _server.Client(_server.Token("admin", "globex"));
        var page = await Json.ReadAsync(await client.GetAsync("api/v1/events"));
        Assert.Empty(page["events"]!.AsArray());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("api/v1/events/1")).StatusCode);
    }

    [Fact]
    public async Task The_checkpoint_and_public_key_are_public()
    {
        using var client = _server.Client();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("api/v1/ledger/checkpoint")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("api/v1/ledger/public-key")).StatusCode);
    }

    [Theory]
    [InlineData("ws/audit")]
    [InlineData("api/v1/stream")]
    public async Task A_stream_refusing_a_token_names_the_claim_like_the_rest_api(string path)
    {
        var expired = new TokenIssuer(_server.Secret, new AuthOptions(), new ShiftedTime(TimeSpan.FromHours(-2))).Issue("auditor", "acme", [], TimeSpan.FromMinutes(5));
        foreach (var (token, field) in new[] { ((string?)null, "authorization"), (expired, "exp") })
        {
            using var client = _server.Client(token);
            using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
            Assert.True(await AssertNamedIfRefusedAsync(response, path));
            Assert.Equal(field, (await Json.ReadAsync(response))["errors"]![0]!["field"]!.GetValue<string>());
        }
    }

    /// <summary>
    /// The sweep: every endpoint the server maps (read from its routing, so a new endpoint is swept without editing this
    /// test), with every method it takes, is called with each kind of refused token: none, garbage, expired, another
    /// audience, a bad tenant claim, a role without access, a producer without the write scope, a privileged role without
    /// MFA, a token the attribute rules deny. Every 401 and 403 must name its claim, field or rule; each endpoint that
    /// takes a token must have refused at least once, so the sweep cannot pass by reaching nothing.
    /// </summary>
    [Fact]
    public async Task Every_401_and_403_of_every_endpoint_names_the_claim_field_or_rule()
    {
        await using var strict = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Auth:PrivilegedRoles:0"] = "admin",
            ["AuditStream:Authorization:Rules:0:Name"] = "security-department",
            ["AuditStream:Authorization:Rules:0:Actions:0"] = "*",
            ["AuditStream:Authorization:Rules:0:Subject:department:0"] = "security",
            ["AuditStream:Authorization:Rules:0:Resource:category:0"] = "security",
        });
        await Json.PostEventsAsync(strict.Producer(), Json.Event(1));

        var refusedBy = new Dictionary<string, int>(StringComparer.Ordinal);
        var checkedRefusals = 0;
        foreach (var server in new[] { _server, strict })
        {
            var tokens = new (string Name, string? Token)[]
            {
                ("none", null),
                ("garbage", "not.a.jwt"),
                ("expired", new TokenIssuer(server.Secret, new AuthOptions(), new ShiftedTime(TimeSpan.FromHours(-2))).Issue("admin", "*", [], TimeSpan.FromMinutes(5))),
                ("other key", new TokenIssuer(RandomNumberGenerator.GetBytes(32), new AuthOptions(), TimeProvider.System).Issue("admin", "*", [], TimeSpan.FromHours(1))),
                ("other audience", server.Token("admin", "*", audience: "someone-else")),
                ("no tenant", server.Token("admin", tenant: null)),
                ("tenants not *", server.TokenWithClaims(new Dictionary<string, object> { ["role"] = "admin", ["sub"] = "x", ["tenants"] = "acme" })),
                ("role user", server.Token("user", "acme")),
                ("unknown role", server.Token("root", "acme")),
                ("one-tenant admin", server.Token("admin", "acme")),
                ("reader without write scope", server.Token("auditor", "acme")),
                ("admin without mfa", server.Token("admin", "*")),
                ("department sales", server.TokenWithClaims(new Dictionary<string, object> { ["role"] = "security", ["sub"] = "x", ["tenant"] = "acme", ["department"] = "sales" })),
            };
            foreach (var (method, path) in Endpoints(server))
            {
                foreach (var (name, token) in tokens)
                {
                    using var client = server.Client(token);
                    using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "POST" ? Json.Content(Json.Event(2)) : null };
                    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
                    if (await AssertNamedIfRefusedAsync(response, $"{method} {path} with {name}"))
                    {
                        checkedRefusals++;
                        refusedBy[$"{method} {path}"] = refusedBy.GetValueOrDefault($"{method} {path}") + 1;
                    }
                }
            }
        }

        // Refusals that need a particular body or header: another tenant's events, a foreign browser origin on the stream.
        using (var producer = _server.Producer("acme"))
        using (var misplaced = await producer.PostAsync("api/v1/events", Json.Content(Json.Event(3, extra: "\"tenant_id\":\"globex\""))))
        {
            Assert.Equal(HttpStatusCode.Forbidden, misplaced.StatusCode);
            Assert.True(await AssertNamedIfRefusedAsync(misplaced, "POST api/v1/events for another tenant"));
        }

        using (var reader = _server.Client(_server.Token("auditor", "acme")))
        using (var foreign = new HttpRequestMessage(HttpMethod.Get, "api/v1/stream"))
        {
            foreign.Headers.Add("Origin", "https://evil.example");
            using var response = await reader.SendAsync(foreign, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.True(await AssertNamedIfRefusedAsync(response, "GET api/v1/stream from a foreign origin"));
        }

        foreach (var protectedEndpoint in new[]
        {
            "GET api/v1/events", "GET api/v1/events/export", "GET api/v1/events/1", "POST api/v1/events", "POST api/v1/subjects/s1/erasure",
            "GET api/v1/ledger/proofs/inclusion", "GET api/v1/ledger/proofs/consistency", "GET api/v1/sinks", "GET api/v1/authz/explain",
            "GET ws/audit", "GET api/v1/stream", "GET debug/websocket/audit/stats", "POST api/v1/sinks/none/dead-letters/redrive",
        })
        {
            Assert.True(refusedBy.ContainsKey(protectedEndpoint), $"{protectedEndpoint} was never refused: the sweep did not reach it ({string.Join(", ", refusedBy.Keys)})");
        }

        Assert.True(checkedRefusals > 200, $"only {checkedRefusals} refusals checked");
    }

    /// <summary>Every route the server maps with each of its methods, route parameters filled with plausible values.</summary>
    private static IEnumerable<(string Method, string Path)> Endpoints(TestServer server)
    {
        var sources = server.Services.GetServices<EndpointDataSource>();
        foreach (var endpoint in sources.SelectMany(s => s.Endpoints).OfType<RouteEndpoint>())
        {
            var path = System.Text.RegularExpressions.Regex.Replace(endpoint.RoutePattern.RawText!.TrimStart('/'), @"\{([^}:]+)[^}]*\}", m => m.Groups[1].Value switch
            {
                "seq" => "1",
                "subject_id" => "s1",
                "**path" => "0/000",
                _ => "none",
            });
            foreach (var method in endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
            {
                if (method != "CONNECT")
                {
                    yield return (method, path);
                }
            }
        }
    }

    private sealed class ShiftedTime(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + shift;
    }
}
