using System.Net;
using System.Text.Json;
using AuditStream.Server.Tests.Support;
using AuditStream.Server.WebConsole;

namespace AuditStream.Server.Tests.Hosting;

/// <summary><c>GET /console.json</c>: how the web console signs in, and the issuer the console's CSP lets it connect to.</summary>
public sealed class ConsoleSignInTests
{
    [Fact]
    public async Task Without_a_client_id_the_console_signs_in_by_token_only_and_connects_to_its_own_origin_only()
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Client();

        using var response = await http.GetAsync(new Uri("/console.json", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("""{"oidc":null}""", await response.Content.ReadAsStringAsync());
        Assert.Equal(WebConsoleFiles.ContentSecurityPolicy, Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
    }

    [Fact]
    public async Task With_a_client_id_it_names_the_authority_client_and_scopes_and_the_pages_may_connect_to_and_frame_the_issuer()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Auth:Authority"] = "https://login.example.com/realms/audit/",
            ["AuditStream:Console:Oidc:ClientId"] = "console",
            ["AuditStream:Console:Oidc:Scopes"] = "openid offline_access",
        });
        using var http = server.Client();

        using var settings = await http.GetAsync(new Uri("/console.json", UriKind.Relative));
        using var page = await http.GetAsync(new Uri("/", UriKind.Relative));
        using var json = JsonDocument.Parse(await settings.Content.ReadAsStringAsync());

        var oidc = json.RootElement.GetProperty("oidc");
        Assert.Equal("https://login.example.com/realms/audit", oidc.GetProperty("issuer").GetString());
        Assert.Equal("console", oidc.GetProperty("client_id").GetString());
        Assert.Equal("openid offline_access", oidc.GetProperty("scopes").GetString());
        var csp = Assert.Single(page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("connect-src 'self' https://login.example.com;", csp, StringComparison.Ordinal);
        // The hidden frame of a silent re-sign-in (prompt=none) goes to the issuer and comes back to /silent.html.
        Assert.Contains("frame-src 'self' https://login.example.com;", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "there is no issuer")]
    [InlineData("http://login.example.com", "must be an absolute https URL")]
    public async Task A_client_id_without_a_usable_issuer_stops_the_server_at_start(string? issuer, string message)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Console:Oidc:ClientId"] = "console",
            ["AuditStream:Console:Oidc:Issuer"] = issuer,
        }));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
