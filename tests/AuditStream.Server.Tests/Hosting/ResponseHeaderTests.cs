using System.Net;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Hosting;

public sealed class ResponseHeaderTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await Json.PostEventsAsync(_server.Producer(), Json.Event(1), Json.Event(2));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("api/v1/events", "admin", HttpStatusCode.OK)]
    [InlineData("api/v1/events/1", "auditor", HttpStatusCode.OK)]
    [InlineData("api/v1/events/export?format=ndjson", "admin", HttpStatusCode.OK)]
    [InlineData("api/v1/events/export?format=csv", "operator", HttpStatusCode.OK)]
    [InlineData("api/v1/ledger/proofs/inclusion?seq=1", "auditor", HttpStatusCode.OK)]
    [InlineData("api/v1/ledger/proofs/consistency?from=1&to=2", "auditor", HttpStatusCode.OK)]
    [InlineData("api/v1/sinks", "admin", HttpStatusCode.OK)]
    [InlineData("debug/websocket/audit/stats", "admin", HttpStatusCode.OK)]
    [InlineData("api/v1/events", "user", HttpStatusCode.Forbidden)]
    [InlineData("api/v1/events/99", "admin", HttpStatusCode.NotFound)]
    [InlineData("api/v1/events", null, HttpStatusCode.Unauthorized)]
    [InlineData("api/v1/sinks", null, HttpStatusCode.Unauthorized)]
    public async Task Every_answer_of_an_endpoint_that_takes_a_token_is_no_store_and_nosniff_without_a_server_header(string path, string? role, HttpStatusCode status)
    {
        using var client = role is null ? _server.Client() : _server.Reader(role, "*");
        using var response = await client.GetAsync(path);
        Assert.Equal(status, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore, $"Cache-Control: {response.Headers.CacheControl}");
        AssertNosniffAndNoServer(response);
    }

    [Fact]
    public async Task Ingest_answers_are_no_store_and_nosniff_too()
    {
        using var response = await _server.Producer().PostAsync("api/v1/events", Json.Content(Json.Event(3)));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore);
        AssertNosniffAndNoServer(response);
    }

    [Theory]
    [InlineData("api/v1/ledger/checkpoint")]
    [InlineData("api/v1/ledger/public-key")]
    [InlineData("live")]
    [InlineData("no/such/path")]
    public async Task Public_answers_are_nosniff_without_a_server_header(string path)
    {
        using var response = await _server.Client().GetAsync(path);
        AssertNosniffAndNoServer(response);
    }

    private static void AssertNosniffAndNoServer(HttpResponseMessage response)
    {
        Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));
        Assert.Equal(["no-referrer"], response.Headers.GetValues("Referrer-Policy"));
        Assert.Equal(["DENY"], response.Headers.GetValues("X-Frame-Options"));
        Assert.Equal(["default-src 'none'; frame-ancestors 'none'"], response.Headers.GetValues("Content-Security-Policy"));

        // HSTS only over HTTPS (TlsTests).
        Assert.False(response.Headers.Contains("Strict-Transport-Security"));
        Assert.False(response.Headers.Contains("Server"), $"Server: {string.Join(',', response.Headers.Server)}");
    }
}
