using System.Net;
using System.Security.Cryptography;
using AuditStream.Server.Auth;
using AuditStream.Server.Tests.Support;

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

    private async Task<HttpStatusCode> GetAsync(string? token)
    {
        using var client = _server.Client(token);
        using var response = await client.GetAsync("api/v1/events");
        return response.StatusCode;
    }

    [Fact]
    public async Task No_token_is_401()
    {
        using var client = _server.Client();
        using var response = await client.GetAsync("api/v1/events");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
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

    private sealed class ShiftedTime(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + shift;
    }
}
