using System.Net;
using System.Net.Http.Headers;
using AuditStream.Server.Tests.Streaming;
using AuditStream.Server.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AuditStream.Server.Tests.Hosting;

/// <summary>CORS for browser pages on the origins of <c>AuditStream:Hub:AllowedOrigins</c>, over the real server.</summary>
public sealed class BrowserCorsTests
{
    private const string Listed = "https://console.example.com";
    private const string Foreign = "https://evil.example.net";

    private static readonly Dictionary<string, string?> ListedSettings = new() { ["AuditStream:Hub:AllowedOrigins:0"] = Listed + "/" };

    /// <summary>The endpoints a browser page may call, with the method its preflight asks for.</summary>
    public static readonly (string Path, string Method)[] BrowserEndpoints =
    [
        ("api/v1/events", "POST"),
        ("api/v1/events", "GET"),
        ("api/v1/events/1", "GET"),
        ("api/v1/events/export", "GET"),
        ("api/v1/stream", "GET"),
        ("api/v1/ledger/checkpoint", "GET"),
        ("api/v1/ledger/public-key", "GET"),
        ("api/v1/ledger/proofs/inclusion", "GET"),
        ("api/v1/ledger/proofs/consistency", "GET"),
    ];

    [Fact]
    public async Task A_preflight_from_a_listed_origin_is_answered_without_a_token_with_the_methods_headers_and_max_age()
    {
        await using var server = await TestServer.StartAsync(ListedSettings);
        using var http = server.Client();
        foreach (var (path, method) in BrowserEndpoints)
        {
            using var response = await PreflightAsync(http, path, Listed, method, "authorization, content-type");

            Assert.True(response.StatusCode == HttpStatusCode.NoContent, $"{method} {path}: {(int)response.StatusCode}");
            Assert.Equal(Listed, Header(response, "Access-Control-Allow-Origin"));
            Assert.Equal(["GET", "POST"], List(response, "Access-Control-Allow-Methods"));
            Assert.Equal(["authorization", "content-type", "last-event-id"], List(response, "Access-Control-Allow-Headers").Select(h => h.ToLowerInvariant()));
            Assert.Equal("600", Header(response, "Access-Control-Max-Age"));
            Assert.Null(Header(response, "Access-Control-Allow-Credentials"));
            Assert.Contains("Origin", response.Headers.Vary);
        }
    }

    [Fact]
    public async Task Answers_to_a_listed_origin_carry_Allow_Origin_and_the_exposed_headers_refusals_included()
    {
        await using var server = await TestServer.StartAsync(ListedSettings);
        using var http = server.Client();

        using var published = await SendAsync(http, HttpMethod.Post, "api/v1/events", Listed, server.ProducerToken(), Json.Content(Json.Event(1)));
        Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        Assert.Equal(Listed, Header(published, "Access-Control-Allow-Origin"));
        Assert.Equal(["Location", "Retry-After", "Content-Disposition"], List(published, "Access-Control-Expose-Headers"));
        Assert.Null(Header(published, "Access-Control-Allow-Credentials"));

        // What the TypeScript client reads to raise AuthError or FilterError instead of reconnecting.
        using var noToken = await SendAsync(http, HttpMethod.Post, "api/v1/events", Listed, null, Json.Content(Json.Event(2)));
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.Equal(Listed, Header(noToken, "Access-Control-Allow-Origin"));
        using var badToken = await SendAsync(http, HttpMethod.Get, "api/v1/stream?token=not-a-token", Listed);
        Assert.Equal(HttpStatusCode.Unauthorized, badToken.StatusCode);
        Assert.Equal(Listed, Header(badToken, "Access-Control-Allow-Origin"));
        using var badFilter = await SendAsync(http, HttpMethod.Get, "api/v1/stream?severities=loud&token=" + server.Token("auditor"), Listed);
        Assert.Equal(HttpStatusCode.BadRequest, badFilter.StatusCode);
        Assert.Equal(Listed, Header(badFilter, "Access-Control-Allow-Origin"));

        using var read = await SendAsync(http, HttpMethod.Get, "api/v1/events/1", Listed, server.Token("auditor"));
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(Listed, Header(read, "Access-Control-Allow-Origin"));

        // An EventSource reads the open stream only with the header.
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/stream?token=" + server.Token("auditor"));
        request.Headers.Add("Origin", Listed);
        using var stream = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        Assert.Equal(Listed, Header(stream, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task A_foreign_origin_gets_no_CORS_headers_on_a_preflight_or_an_answer()
    {
        await using var server = await TestServer.StartAsync(ListedSettings);
        using var http = server.Client();

        using var preflight = await PreflightAsync(http, "api/v1/events", Foreign, "POST", "authorization, content-type");
        Assert.Empty(AccessControl(preflight));
        using var published = await SendAsync(http, HttpMethod.Post, "api/v1/events", Foreign, server.ProducerToken(), Json.Content(Json.Event(1)));
        Assert.Empty(AccessControl(published));
        using var refused = await SendAsync(http, HttpMethod.Get, "api/v1/stream?token=not-a-token", Foreign);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Empty(AccessControl(refused));
    }

    [Fact]
    public async Task Without_allowed_origins_nothing_carries_CORS_headers()
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Client();
        foreach (var (path, method) in BrowserEndpoints)
        {
            using var preflight = await PreflightAsync(http, path, Listed, method, "authorization");
            Assert.True(AccessControl(preflight).Count == 0, $"{method} {path}: {string.Join(", ", AccessControl(preflight))}");
        }

        using var published = await SendAsync(http, HttpMethod.Post, "api/v1/events", Listed, server.ProducerToken(), Json.Content(Json.Event(1)));
        Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        Assert.Empty(AccessControl(published));
    }

    [Fact]
    public async Task Operator_endpoints_and_the_WebSocket_path_stay_same_origin()
    {
        await using var server = await TestServer.StartAsync(ListedSettings);
        using var http = server.Client();
        foreach (var path in new[] { "api/v1/sinks", "ws/audit", "live" })
        {
            using var preflight = await PreflightAsync(http, path, Listed, "GET", "authorization");
            Assert.True(AccessControl(preflight).Count == 0, $"preflight {path}: {string.Join(", ", AccessControl(preflight))}");
            using var answer = await SendAsync(http, HttpMethod.Get, path, Listed, server.Token("admin", "*"));
            Assert.True(AccessControl(answer).Count == 0, $"GET {path}: {string.Join(", ", AccessControl(answer))}");
        }
    }

    [Fact]
    public async Task A_star_lets_any_origin_read_answers_but_never_with_credentials()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?> { ["AuditStream:Hub:AllowedOrigins:0"] = "*" });
        using var http = server.Client();

        using var preflight = await PreflightAsync(http, "api/v1/events", Foreign, "POST", "authorization, content-type");
        Assert.Equal(Foreign, Header(preflight, "Access-Control-Allow-Origin"));
        Assert.Null(Header(preflight, "Access-Control-Allow-Credentials"));
        using var published = await SendAsync(http, HttpMethod.Post, "api/v1/events", Foreign, server.ProducerToken(), Json.Content(Json.Event(1)));
        Assert.Equal(Foreign, Header(published, "Access-Control-Allow-Origin"));
        Assert.Null(Header(published, "Access-Control-Allow-Credentials"));
    }

    [Fact]
    public async Task AllowedOrigins_changed_at_run_time_apply_to_CORS_and_to_the_WebSocket_origin_check()
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Client();
        var address = StreamClient.Address(server, "?token=" + server.Token("auditor"));
        using (var before = await PreflightAsync(http, "api/v1/events", Listed, "POST", "content-type"))
        {
            Assert.Empty(AccessControl(before));
        }

        await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => StreamClient.ConnectAsync(address, o => o.SetRequestHeader("Origin", Listed)));

        var configuration = (IConfigurationRoot)server.Services.GetRequiredService<IConfiguration>();
        configuration["AuditStream:Hub:AllowedOrigins:0"] = Listed;
        configuration.Reload();

        using (var after = await PreflightAsync(http, "api/v1/events", Listed, "POST", "content-type"))
        {
            Assert.Equal(Listed, Header(after, "Access-Control-Allow-Origin"));
        }

        await using var listed = await StreamClient.ConnectAsync(address, o => o.SetRequestHeader("Origin", Listed));
        Assert.Equal("audit.connection.established", (await listed.ReceiveAsync())["type"]!.GetValue<string>());
    }

    private static async Task<HttpResponseMessage> PreflightAsync(HttpClient http, string path, string origin, string method, string headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        request.Headers.Add("Access-Control-Request-Headers", headers);
        return await http.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string origin, string? token = null, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add("Origin", origin);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await http.SendAsync(request);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(',', values) : null;

    private static string[] List(HttpResponseMessage response, string name) =>
        (Header(response, name) ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static List<string> AccessControl(HttpResponseMessage response) =>
        response.Headers.Concat(response.Content.Headers)
            .Where(h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase))
            .Select(h => $"{h.Key}: {string.Join(',', h.Value)}")
            .ToList();
}
