using System.Net;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using AuditStream.Server.Tests.Streaming;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Auth;

/// <summary>
/// AuditStream:Auth:PrivilegedRoles over real Kestrel: a privileged role without a multi-factor sign-in is refused on
/// every path with 403 naming <c>amr</c> and <c>mfa_required</c>, REST and streams alike; the same check (with its
/// configured amr and acr values) guards erasure.
/// </summary>
public sealed class PrivilegedMfaTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Auth:PrivilegedRoles:0"] = "admin",
            ["AuditStream:Auth:PrivilegedRoles:1"] = "compliance",
            ["AuditStream:Auth:MfaMethods:0"] = "mfa",
            ["AuditStream:Auth:MfaMethods:1"] = "hwk",
            ["AuditStream:Auth:MfaAcrValues:0"] = "urn:example:loa:mfa",
        });
        await Json.PostEventsAsync(_server.Producer(), Json.Event(1));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private string Token(string role, string tenant = "*", string[]? amr = null, string? acr = null)
    {
        var claims = new Dictionary<string, object> { ["role"] = role, ["sub"] = "someone", [tenant == "*" ? "tenants" : "tenant"] = tenant };
        if (amr is not null)
        {
            claims["amr"] = amr;
        }

        if (acr is not null)
        {
            claims["acr"] = acr;
        }

        return _server.TokenWithClaims(claims);
    }

    private static async Task AssertStepUpAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var error = Assert.Single((await Json.ReadAsync(response))["errors"]!.AsArray())!;
        Assert.Equal("amr", error["field"]!.GetValue<string>());
        var rule = error["rule"]!.GetValue<string>();
        Assert.StartsWith("must contain \"mfa\" or \"hwk\" (or acr be \"urn:example:loa:mfa\")", rule, StringComparison.Ordinal);
        Assert.EndsWith("(rule mfa_required)", rule, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "api/v1/events")]
    [InlineData("GET", "api/v1/events/1")]
    [InlineData("GET", "api/v1/events/export")]
    [InlineData("GET", "api/v1/ledger/proofs/inclusion?seq=1")]
    [InlineData("GET", "api/v1/sinks")]
    [InlineData("GET", "debug/websocket/audit/stats")]
    [InlineData("GET", "api/v1/authz/explain?action=query")]
    [InlineData("GET", "api/v1/stream")]
    [InlineData("POST", "api/v1/subjects/s1/erasure")]
    public async Task A_privileged_role_without_mfa_is_told_to_step_up(string method, string path)
    {
        using var client = _server.Client(Token("admin", amr: ["pwd"]));
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        await AssertStepUpAsync(response);
    }

    [Fact]
    public async Task The_websocket_refuses_a_privileged_role_without_mfa_before_the_upgrade()
    {
        var refused = await Assert.ThrowsAnyAsync<WebSocketException>(() => StreamClient.ConnectAsync(_server, Token("compliance", "acme")));
        Assert.Contains("403", refused.Message, StringComparison.Ordinal);

        var (socket, established) = await StreamClient.ConnectEstablishedAsync(_server, Token("compliance", "acme", amr: ["pwd", "hwk"]));
        await using (socket)
        {
            Assert.Equal("compliance", established["role"]!.GetValue<string>());
        }
    }

    [Theory]
    [InlineData(new[] { "mfa" }, null)]
    [InlineData(new[] { "pwd", "hwk" }, null)]
    [InlineData(null, "urn:example:loa:mfa")]
    public async Task Any_configured_amr_value_or_acr_counts_as_mfa(string[]? amr, string? acr)
    {
        using var client = _server.Client(Token("admin", amr: amr, acr: acr));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("api/v1/events")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("api/v1/sinks")).StatusCode);
    }

    [Fact]
    public async Task A_role_that_is_not_privileged_needs_no_mfa_except_to_erase()
    {
        using var auditor = _server.Client(Token("auditor", "acme"));
        Assert.Equal(HttpStatusCode.OK, (await auditor.GetAsync("api/v1/events")).StatusCode);
        await using var sse = await EventStreamClient.ConnectEstablishedAsync(_server, Token("auditor", "acme"));

        // An acr the configuration does not list is no MFA; the erasure's own check uses the same configured values.
        using var weak = _server.Client(Token("compliance", "acme", acr: "urn:example:loa:pwd"));
        await AssertStepUpAsync(await weak.PostAsync("api/v1/subjects/s1/erasure", null));
        using var strong = _server.Client(Token("compliance", "acme", amr: ["hwk"]));
        Assert.Equal(HttpStatusCode.NotFound, (await strong.PostAsync("api/v1/subjects/s1/erasure", null)).StatusCode);
    }

    [Fact]
    public async Task Explain_names_mfa_required_for_a_privileged_subject_without_mfa()
    {
        using var admin = _server.Client(Token("admin", amr: ["mfa"]));
        var answer = await Json.ReadAsync(await admin.GetAsync("api/v1/authz/explain?action=query&subject.role=compliance&subject.tenant=acme&subject.amr=pwd"));
        Assert.False(answer["allowed"]!.GetValue<bool>());
        Assert.Equal("mfa_required", answer["rule"]!.GetValue<string>());
        var stepped = await Json.ReadAsync(await admin.GetAsync("api/v1/authz/explain?action=query&subject.role=compliance&subject.tenant=acme&subject.amr=pwd&subject.amr=hwk"));
        Assert.True(stepped["allowed"]!.GetValue<bool>());
    }

    [Fact]
    public async Task The_event_stream_names_the_step_up_rule()
    {
        await using var sse = await EventStreamClient.ConnectAsync(_server, Token("admin"));
        Assert.Equal(HttpStatusCode.Forbidden, sse.Response.StatusCode);
        var error = JsonNode.Parse(await sse.ReadBodyAsync())!["errors"]![0]!;
        Assert.Equal("amr", error["field"]!.GetValue<string>());
        Assert.Contains("mfa_required", error["rule"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_privileged_role_stops_the_start_naming_the_key()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Auth:PrivilegedRoles:0"] = "root",
        }));
        Assert.Contains("AuditStream:Auth:PrivilegedRoles", failure.ToString(), StringComparison.Ordinal);
        Assert.Contains("'root' is not a role", failure.ToString(), StringComparison.Ordinal);
    }
}
