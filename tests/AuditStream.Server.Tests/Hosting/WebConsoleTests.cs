using System.Net;
using AuditStream.Server.Tests.Support;
using AuditStream.Server.WebConsole;

namespace AuditStream.Server.Tests.Hosting;

/// <summary>The web console (wwwroot, built from clients/dashboard) served at <c>/</c> by the real server, without a token.</summary>
public sealed class WebConsoleTests
{
    [Fact]
    public async Task Root_answers_the_console_page_with_a_strict_content_security_policy_and_no_token()
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Client();

        using var response = await http.GetAsync(new Uri("/", UriKind.Relative));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Equal(WebConsoleFiles.ContentSecurityPolicy, csp);
        Assert.Contains("default-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Contains("<script type=\"module\" src=\"app.js\"></script>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("app.js", "text/javascript", "connect")]
    [InlineData("app.css", "text/css", ".row")]
    public async Task The_console_assets_are_served_with_the_same_headers(string path, string mediaType, string content)
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Client();

        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(WebConsoleFiles.ContentSecurityPolicy, Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Contains(content, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_silent_renewal_page_runs_and_loads_nothing_and_only_the_consoles_own_pages_may_frame_it()
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Client();

        using var silent = await http.GetAsync(new Uri("silent.html?code=c&state=s", UriKind.Relative));
        using var page = await http.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, silent.StatusCode);
        Assert.Equal("text/html", silent.Content.Headers.ContentType?.MediaType);
        Assert.Equal(WebConsoleFiles.SilentRenewalPolicy, Assert.Single(silent.Headers.GetValues("Content-Security-Policy")));
        Assert.Contains("frame-ancestors 'self'", WebConsoleFiles.SilentRenewalPolicy, StringComparison.Ordinal);
        Assert.Contains("default-src 'none'", WebConsoleFiles.SilentRenewalPolicy, StringComparison.Ordinal);
        Assert.Equal("SAMEORIGIN", Assert.Single(silent.Headers.GetValues("X-Frame-Options")));
        Assert.DoesNotContain("<script", await silent.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // The console itself is never framed.
        Assert.Equal("DENY", Assert.Single(page.Headers.GetValues("X-Frame-Options")));
        Assert.Contains("frame-ancestors 'none'", Assert.Single(page.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_api_keeps_its_own_answers_a_missing_file_is_404_and_api_calls_still_need_a_token()
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Client();

        using var missing = await http.GetAsync(new Uri("no-such-file.js", UriKind.Relative));
        using var events = await http.GetAsync(new Uri("api/v1/events", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, events.StatusCode);
        // Not the console's policy: an API answer gets the one that allows nothing (ResponseHeaders).
        Assert.Equal(AuditStream.Server.Hosting.ResponseHeaders.ApiContentSecurityPolicy, events.Headers.GetValues("Content-Security-Policy").Single());
    }
}
