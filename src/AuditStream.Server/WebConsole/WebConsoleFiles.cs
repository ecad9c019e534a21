using AuditStream.Server.Auth;
using Microsoft.AspNetCore.StaticFiles;

namespace AuditStream.Server.WebConsole;

/// <summary>
/// Serves the web console (clients/dashboard, built into wwwroot and committed) at <c>/</c>: <c>index.html</c>,
/// <c>app.js</c>, <c>app.css</c> (and <c>silent.html</c>, see <see cref="SilentRenewalPolicy"/>), each answer with a strict Content-Security-Policy, so that event data the console
/// shows can never run as script even if it slipped into markup.
/// </summary>
internal static class WebConsoleFiles
{
    /// <summary>
    /// Same-origin scripts, styles, images and connections only (CSP Level 3: <c>'self'</c> also matches the page's own
    /// <c>ws:</c>/<c>wss:</c> origin), no inline script or style, no plugins, no framing, no form posts.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>
    /// <c>/silent.html</c>, where the issuer sends the hidden frame of a silent OIDC re-sign-in (<c>prompt=none</c>) back
    /// with its code: a page with no script, no style and nothing to load, which only the console's own pages may frame
    /// (the console reads the code from the frame's address, same origin).
    /// </summary>
    public const string SilentRenewalPolicy = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

    private const string SilentRenewalPage = "silent.html";

    /// <summary>Reads the console's sign-in settings (<c>AuditStream:Console</c>) for <see cref="UseWebConsole"/> and <see cref="MapConsoleSignIn"/>.</summary>
    public static IServiceCollection AddWebConsole(this IServiceCollection services, IConfiguration configuration, AuthOptions auth)
    {
        var options = configuration.GetSection(ConsoleOptions.SectionName).Get<ConsoleOptions>() ?? new ConsoleOptions();
        return services.AddSingleton(ConsoleSignIn.From(options, auth));
    }

    /// <summary>Adds the default document (<c>/</c> → <c>/index.html</c>) and the static files of the web root, with the console's headers.</summary>
    public static IApplicationBuilder UseWebConsole(this IApplicationBuilder app)
    {
        var csp = app.ApplicationServices.GetRequiredService<ConsoleSignIn>().ContentSecurityPolicy;
        var types = new FileExtensionContentTypeProvider();
        types.Mappings[".html"] = "text/html; charset=utf-8";
        types.Mappings[".js"] = "text/javascript; charset=utf-8";
        types.Mappings[".css"] = "text/css; charset=utf-8";
        app.UseDefaultFiles();
        return app.UseStaticFiles(new StaticFileOptions
        {
            ContentTypeProvider = types,
            OnPrepareResponse = context =>
            {
                var silent = string.Equals(context.File.Name, SilentRenewalPage, StringComparison.Ordinal);
                AddHeaders(context.Context.Response.Headers, silent ? SilentRenewalPolicy : csp, silent ? "SAMEORIGIN" : "DENY");
            },
        });
    }

    /// <summary><c>GET /console.json</c>: how the console signs in (no token needed: it is what the page reads before it has one).</summary>
    public static IEndpointConventionBuilder MapConsoleSignIn(this IEndpointRouteBuilder endpoints)
    {
        var signIn = endpoints.ServiceProvider.GetRequiredService<ConsoleSignIn>();
        return endpoints.MapGet("/console.json", (HttpContext http) =>
        {
            AddHeaders(http.Response.Headers, signIn.ContentSecurityPolicy, "DENY");
            return Results.Text(signIn.Json, "application/json; charset=utf-8");
        }).AllowAnonymous();
    }

    private static void AddHeaders(IHeaderDictionary headers, string csp, string frameOptions)
    {
        // X-Content-Type-Options comes with every answer (ResponseHeaders).
        headers.ContentSecurityPolicy = csp;
        headers.XFrameOptions = frameOptions;
        headers["Referrer-Policy"] = "no-referrer";

        // Revalidate every time (the answer is an ETag match, 304, when nothing changed): a new server version's
        // bundle is never mixed with a cached page of the previous one.
        headers.CacheControl = "no-cache";
    }
}
