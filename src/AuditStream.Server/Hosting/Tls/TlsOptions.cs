using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography.X509Certificates;

namespace AuditStream.Server.Hosting.Tls;

/// <summary>
/// HTTPS and WSS (<c>https://</c> addresses in <c>urls</c>): the server certificate and its reload, HSTS, the HTTP→HTTPS
/// redirect, and client certificates (mTLS) that authenticate producers.
/// </summary>
public sealed class TlsOptions : IValidatableObject
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "AuditStream:Tls";

    /// <summary>
    /// The server certificate: a PEM file (the certificate first, then any intermediates; the key too unless
    /// <see cref="KeyPath"/> is set) or a PKCS#12 file (<c>.pfx</c>, <c>.p12</c>) with the key and any intermediates.
    /// </summary>
    /// <value>Default <c>null</c>: no HTTPS.</value>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of the certificate in <see cref="CertificatePath"/>.</summary>
    /// <value>Default <c>null</c>: the key is in <see cref="CertificatePath"/>.</value>
    public string? KeyPath { get; set; }

    /// <summary>The password of a PKCS#12 file or of an encrypted PEM key. Secret: never logged or printed.</summary>
    /// <value>Default <c>null</c>.</value>
    public string? CertificatePassword { get; set; }

    /// <summary>
    /// How often the certificate files are read again; when their content changed, new TLS connections get the new
    /// certificate (a renewal needs no restart). A pair that does not load (a half-written renewal) keeps the old one.
    /// </summary>
    /// <value>Default 10 seconds; 0 never reloads.</value>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Send <c>Strict-Transport-Security</c> on HTTPS answers (not when the request's host is <c>localhost</c>).</summary>
    /// <value>Default <c>true</c>.</value>
    public bool Hsts { get; set; } = true;

    /// <summary>The HSTS <c>max-age</c>.</summary>
    /// <value>Default 365 days.</value>
    [Range(typeof(TimeSpan), "00:00:00", "730.00:00:00")]
    public TimeSpan HstsMaxAge { get; set; } = TimeSpan.FromDays(365);

    /// <summary>Add <c>includeSubDomains</c> to HSTS.</summary>
    /// <value>Default <c>false</c>.</value>
    public bool HstsIncludeSubDomains { get; set; }

    /// <summary>Add <c>preload</c> to HSTS.</summary>
    /// <value>Default <c>false</c>.</value>
    public bool HstsPreload { get; set; }

    /// <summary>Answer plain-HTTP requests with a 307 redirect to the HTTPS address (which must be the only one).</summary>
    /// <value>Default <c>false</c>.</value>
    public bool RedirectHttp { get; set; }

    /// <summary>Client certificates (mTLS) that authenticate producers on ingest instead of a bearer token.</summary>
    public ClientCertificateOptions ClientCertificates { get; set; } = new();

    /// <summary>True when any HTTPS is configured.</summary>
    public bool Enabled => CertificatePath is not null;

    /// <summary>True when producers may authenticate with client certificates.</summary>
    public bool ClientCertificatesEnabled => Enabled && ClientCertificates.CaPath is not null;

    /// <summary>A start-up failure naming <see cref="CertificatePath"/> (and its environment variable) and what is wrong.</summary>
    internal static Microsoft.Extensions.Options.OptionsValidationException CertificateError(string what)
    {
        const string key = $"{SectionName}:{nameof(CertificatePath)}";
        return new(SectionName, typeof(TlsOptions), [$"{key} (env {key.Replace(":", "__", StringComparison.Ordinal)}) {what}"]);
    }

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (CertificatePath is null)
        {
            if (KeyPath is not null || ClientCertificates.CaPath is not null || RedirectHttp)
            {
                yield return new ValidationResult("is required when KeyPath, RedirectHttp or ClientCertificates:CaPath is set", [nameof(CertificatePath)]);
            }
        }
        else if (!File.Exists(CertificatePath))
        {
            yield return new ValidationResult("must name an existing file (PEM or PKCS#12)", [nameof(CertificatePath)]);
        }

        if (KeyPath is not null && !File.Exists(KeyPath))
        {
            yield return new ValidationResult("must name an existing PEM key file", [nameof(KeyPath)]);
        }

        if (ClientCertificates.CaPath is { } ca && !File.Exists(ca))
        {
            yield return new ValidationResult("must name an existing PEM file of CA certificates", [$"{nameof(ClientCertificates)}:{nameof(ClientCertificateOptions.CaPath)}"]);
        }

        for (var i = 0; i < ClientCertificates.Producers.Count; i++)
        {
            var key = $"{nameof(ClientCertificates)}:{nameof(ClientCertificateOptions.Producers)}:{i}";
            if (ClientCertificates.Producers[i].Problem() is { } problem)
            {
                yield return new ValidationResult(problem, [key]);
            }
        }
    }
}

/// <summary>Client certificates that authenticate producers (<see cref="TlsOptions.ClientCertificates"/>).</summary>
public sealed class ClientCertificateOptions
{
    /// <summary>
    /// PEM file of the CA certificates producers' client certificates must chain to (only these are trusted, not the
    /// system's roots). Setting it makes the server ask every TLS client for a certificate; one without still uses a token.
    /// </summary>
    /// <value>Default <c>null</c>: no client certificates.</value>
    public string? CaPath { get; set; }

    /// <summary>Revocation checking of client certificates: <c>NoCheck</c>, <c>Online</c> (CRL/OCSP from the certificate) or <c>Offline</c> (cached only).</summary>
    /// <value>Default <c>NoCheck</c>: a private producer CA rarely publishes revocation; remove a producer from <see cref="Producers"/> instead.</value>
    public X509RevocationMode RevocationMode { get; set; } = X509RevocationMode.NoCheck;

    /// <summary>Which certificate is which producer of which tenant: the first entry that matches wins; an unmatched certificate is refused.</summary>
    public List<ProducerCertificate> Producers { get; set; } = [];
}

/// <summary>A producer identity for client certificates whose subject or subject alternative name matches exactly one of the match fields.</summary>
public sealed class ProducerCertificate
{
    /// <summary>A URI SAN, e.g. a SPIFFE id <c>spiffe://acme.example/billing</c>.</summary>
    public string? Uri { get; set; }

    /// <summary>A DNS-name SAN.</summary>
    public string? DnsName { get; set; }

    /// <summary>An e-mail (rfc822Name) SAN.</summary>
    public string? Email { get; set; }

    /// <summary>The subject's common name (CN).</summary>
    public string? CommonName { get; set; }

    /// <summary>The producer's identity: the <c>sub</c> its requests carry.</summary>
    public string Producer { get; set; } = "";

    /// <summary>The one tenant the producer writes for.</summary>
    public string Tenant { get; set; } = "";

    /// <summary>What is wrong with this entry, or null.</summary>
    internal string? Problem()
    {
        var matches = new[] { Uri, DnsName, Email, CommonName }.Count(m => !string.IsNullOrEmpty(m));
        if (matches != 1)
        {
            return "must set exactly one of Uri, DnsName, Email or CommonName";
        }

        if (string.IsNullOrWhiteSpace(Producer))
        {
            return "must set Producer (the producer's identity)";
        }

        return string.IsNullOrWhiteSpace(Tenant) || Tenant == "*" ? "must set Tenant to one tenant (not '*')" : null;
    }
}
