using System.Net;
using AuditStream.Server.Operations;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Hosting.Tls;

/// <summary>
/// HTTPS/WSS on the <c>https://</c> addresses of <c>urls</c> with the certificate of <see cref="TlsOptions"/> (reloaded by
/// <see cref="ServerCertificateSource"/>), client certificates for producers, HSTS and the optional HTTP→HTTPS redirect.
/// With a certificate configured the server binds each address of <c>urls</c> itself (Kestrel's <c>Listen</c>), so that
/// every TLS handshake can be given the current certificate and asked for a client certificate.
/// </summary>
internal static class TlsSetup
{
    /// <summary>Registers the options, the producer certificates and their scheme, and the listeners; call once on the builder.</summary>
    public static void AddAuditStreamTls(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<TlsOptions>(builder.Configuration, TlsOptions.SectionName);
        services.AddSingleton(sp => new ProducerCertificates(sp.GetRequiredService<IOptions<TlsOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => ServerCertificateSource.Load(
            sp.GetRequiredService<IOptions<TlsOptions>>().Value, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger<ServerCertificateSource>()));
        services.AddAuthentication().AddClientCertificateAuthentication();

        var options = builder.Configuration.GetSection(TlsOptions.SectionName).Get<TlsOptions>() ?? new TlsOptions();
        var urls = (builder.WebHost.GetSetting(WebHostDefaults.ServerUrlsKey) ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var addresses = urls.Select(BindingAddress.Parse).ToArray();
        if (!options.Enabled)
        {
            if (addresses.FirstOrDefault(a => a.Scheme == Uri.UriSchemeHttps) is { } https)
            {
                throw TlsOptions.CertificateError($"is required: urls has the HTTPS address {https}");
            }

            return;
        }

        // The addresses are bound here; left in "urls" as well, Kestrel would warn that it overrides them.
        builder.WebHost.UseSetting(WebHostDefaults.ServerUrlsKey, "");
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var tls = new TlsHandshakeCallbackOptions
            {
                OnConnection = Handshake,
                OnConnectionState = (kestrel.ApplicationServices.GetRequiredService<ServerCertificateSource>(), options.ClientCertificatesEnabled),
            };
            foreach (var address in addresses)
            {
                // On HTTPS endpoints the stream takeover also runs after TLS, on the decrypted bytes (wss://).
                Action<ListenOptions> configure = address.Scheme == Uri.UriSchemeHttps
                    ? listen =>
                    {
                        listen.UseHttps(tls);
                        Streaming.Connections.StreamConnectionTakeover.UseAfterTls(listen);
                    }
                    : _ => { };
                Listen(kestrel, address, configure);
            }
        });
    }

    /// <summary>Redirect (when configured) and HSTS; call first in the pipeline after the response headers.</summary>
    public static void UseAuditStreamTls(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<TlsOptions>>().Value;
        if (!options.Enabled)
        {
            return;
        }

        if (options.RedirectHttp)
        {
            app.UseHttpsRedirection();
        }

        if (StrictTransportSecurity(options) is { } value)
        {
            app.Use((http, next) =>
            {
                if (HstsApplies(http.Request))
                {
                    http.Response.Headers.StrictTransportSecurity = value;
                }

                return next(http);
            });
        }
    }

    /// <summary>The <c>Strict-Transport-Security</c> value of <paramref name="options"/>, or null when HSTS is off.</summary>
    internal static string? StrictTransportSecurity(TlsOptions options) => options.Enabled && options.Hsts
        ? $"max-age={(long)options.HstsMaxAge.TotalSeconds}{(options.HstsIncludeSubDomains ? "; includeSubDomains" : "")}{(options.HstsPreload ? "; preload" : "")}"
        : null;

    // RFC 6797 §7.2: only over HTTPS. Not for localhost, which a browser would then refuse over HTTP for any local server.
    internal static bool HstsApplies(HttpRequest request) =>
        request.IsHttps && !string.Equals(request.Host.Host, "localhost", StringComparison.OrdinalIgnoreCase);

    private static ValueTask<System.Net.Security.SslServerAuthenticationOptions> Handshake(TlsHandshakeCallbackContext context)
    {
        var (source, clientCertificates) = ((ServerCertificateSource, bool))context.State!;
        return ValueTask.FromResult(new System.Net.Security.SslServerAuthenticationOptions
        {
            ServerCertificateContext = source.Current(),

            // Asked for, not required: a client without one still authenticates with a bearer token. The certificate is
            // judged by ProducerCertificates, so that a refused one gets a 401 naming the rule rather than a dropped handshake.
            ClientCertificateRequired = clientCertificates,
#pragma warning disable CA5359 // A client's certificate, accepted here and validated against the producer CAs per request.
            RemoteCertificateValidationCallback = clientCertificates ? static (_, _, _, _) => true : null,
#pragma warning restore CA5359
        });
    }

    private static void Listen(KestrelServerOptions kestrel, BindingAddress address, Action<ListenOptions> configure)
    {
        if (address.IsUnixPipe)
        {
            kestrel.ListenUnixSocket(address.UnixPipePath, configure);
        }
        else if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(address.Port, configure);
        }
        else if (IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip))
        {
            kestrel.Listen(ip, address.Port, configure);
        }
        else
        {
            // "*", "+" or a host name: every interface, as Kestrel binds them.
            kestrel.ListenAnyIP(address.Port, configure);
        }
    }
}
