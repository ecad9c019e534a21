using AuditStream.Server.Streaming;
using Microsoft.AspNetCore.Authorization;

namespace AuditStream.Server.Hosting;

/// <summary>
/// Headers every answer carries: <c>X-Content-Type-Options: nosniff</c> (a browser never second-guesses an export's or an
/// error's type), <c>Referrer-Policy: no-referrer</c>, no framing (<c>X-Frame-Options: DENY</c> and
/// <c>Content-Security-Policy: default-src 'none'; frame-ancestors 'none'</c>: an API answer opened as a page runs and
/// loads nothing; unless the answer sets its own, as the web console's files do: its <c>/silent.html</c> may be framed
/// by the console's own pages), and on every answer of an endpoint that takes a token <c>Cache-Control: no-store</c>, refusals
/// included, so no cache between the server and a reader keeps audit events or personal data.
/// </summary>
internal static class ResponseHeaders
{
    /// <summary>The policy of answers that are not the web console's files.</summary>
    public const string ApiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";

    /// <summary>Adds the headers as each response starts; first in the pipeline, so error pages get them too.</summary>
    public static IApplicationBuilder UseAuditStreamResponseHeaders(this IApplicationBuilder app) => app.Use(static (http, next) =>
    {
        http.Response.OnStarting(static state =>
        {
            var http = (HttpContext)state;
            Apply(http.Response.Headers, TakesToken(http));
            return Task.CompletedTask;
        }, http);
        return next(http);
    });

    /// <summary>Sets the headers on <paramref name="headers"/>; also the 101 of a stream connection taken over below HTTP.</summary>
    public static void Apply(IHeaderDictionary headers, bool takesToken)
    {
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        if (headers.ContentSecurityPolicy.Count == 0)
        {
            headers.ContentSecurityPolicy = ApiContentSecurityPolicy;
        }

        if (headers.XFrameOptions.Count == 0)
        {
            headers.XFrameOptions = "DENY";
        }

        if (takesToken)
        {
            headers.CacheControl = "no-store";
        }
    }

    // The stream endpoints authenticate in the endpoint rather than through [Authorize] (StreamEndpoints.IsStreamPath).
    private static bool TakesToken(HttpContext http) =>
        StreamEndpoints.IsStreamPath(http.Request.Path)
        || (http.GetEndpoint()?.Metadata is { } metadata && metadata.GetMetadata<IAuthorizeData>() is not null && metadata.GetMetadata<IAllowAnonymous>() is null);
}
