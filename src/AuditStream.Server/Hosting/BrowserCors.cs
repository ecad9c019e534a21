using AuditStream.Streaming.Hub;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Net.Http.Headers;

namespace AuditStream.Server.Hosting;

/// <summary>
/// CORS for the API a browser page on another origin uses: publish, the read API, the ledger's proofs and checkpoints,
/// and the SSE stream (whose refusals the TypeScript client reads to tell a bad token or filter from an outage). The
/// origins are the hub's <c>AllowedOrigins</c>, the list <c>/ws/audit</c> checks, read at each request so a reload of
/// the hub options changes both. No origin listed: no CORS headers, same origin only.
/// </summary>
/// <remarks>
/// Tokens travel in the <c>Authorization</c> header or the query, never in cookies, so the policy never allows
/// credentials: a page must hold a token to act, and CORS only lets a listed page read the answers.
/// </remarks>
internal static class BrowserCors
{
    /// <summary>The policy's name, required by the endpoints a browser page may call.</summary>
    public const string PolicyName = "AuditStream.Browser";

    /// <summary>How long a browser may cache a preflight answer (Chromium caps it at 2 hours).</summary>
    public static readonly TimeSpan PreflightMaxAge = TimeSpan.FromMinutes(10);

    /// <summary>Registers the CORS services and the browser policy.</summary>
    public static IServiceCollection AddBrowserCors(this IServiceCollection services)
    {
        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<StreamHub>((cors, hub) => cors.AddPolicy(PolicyName, policy => policy
            .SetIsOriginAllowed(origin => IsListed(origin, hub.Options.AllowedOrigins))
            .WithMethods(HttpMethods.Get, HttpMethods.Post)

            // Last-Event-ID: an EventSource resuming the SSE stream.
            .WithHeaders(HeaderNames.Authorization, HeaderNames.ContentType, "Last-Event-ID")
            .WithExposedHeaders(HeaderNames.Location, HeaderNames.RetryAfter, HeaderNames.ContentDisposition)
            .SetPreflightMaxAge(PreflightMaxAge)));
        return services;
    }

    /// <summary>Whether <paramref name="origin"/> is in <paramref name="allowed"/> (ignoring case and a trailing slash), or the list holds <c>*</c>.</summary>
    public static bool IsListed(string origin, IReadOnlyCollection<string> allowed) =>
        allowed.Contains("*") || allowed.Any(a => string.Equals(a.TrimEnd('/'), origin.TrimEnd('/'), StringComparison.OrdinalIgnoreCase));
}
