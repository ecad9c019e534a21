using System.Formats.Asn1;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AuditStream.Server.Auth;

namespace AuditStream.Server.Hosting.Tls;

/// <summary>Why a client certificate is refused: the field and the rule a 401 problem names.</summary>
internal sealed class ClientCertificateRefusedException(string field, string rule) : Exception($"{field} {rule}")
{
    public string Field { get; } = field;

    public string Rule { get; } = rule;
}

/// <summary>
/// Turns a TLS client certificate into a producer: it must chain to one of the configured CAs (only those: the
/// system's roots are not trusted for this), be valid now and allow client authentication, and match one entry of
/// <see cref="ClientCertificateOptions.Producers"/>, whose producer becomes <c>sub</c>, whose tenant <c>tenant</c>, with
/// the <c>audit:write</c> scope and no role: a producer certificate writes its tenant's events and reads nothing.
/// The answer is kept for the certificate object, which lives as long as its TLS connection.
/// </summary>
internal sealed class ProducerCertificates
{
    /// <summary>The problem field of every refusal.</summary>
    public const string Field = "client_certificate";

    private static readonly Oid s_clientAuth = new("1.3.6.1.5.5.7.3.2");
    private static readonly string s_caKey = $"{TlsOptions.SectionName}:{nameof(TlsOptions.ClientCertificates)}:{nameof(ClientCertificateOptions.CaPath)}";
    private static readonly string s_producersKey = $"{TlsOptions.SectionName}:{nameof(TlsOptions.ClientCertificates)}:{nameof(ClientCertificateOptions.Producers)}";

    private readonly X509Certificate2Collection _authorities = [];
    private readonly ClientCertificateOptions _options;
    private readonly TimeProvider _time;
    private readonly ConditionalWeakTable<X509Certificate2, object> _answers = [];

    public ProducerCertificates(TlsOptions options, TimeProvider time)
    {
        _options = options.ClientCertificates;
        _time = time;
        if (options.ClientCertificatesEnabled)
        {
            _authorities.ImportFromPemFile(_options.CaPath!);
        }
    }

    /// <summary>The producer of <paramref name="certificate"/>, or the refusal naming the rule it breaks.</summary>
    public ClaimsPrincipal Authenticate(X509Certificate2 certificate)
    {
        var answer = _answers.GetValue(certificate, c =>
        {
            try
            {
                return Principal(c);
            }
            catch (ClientCertificateRefusedException refused)
            {
                return refused;
            }
            catch (AsnContentException)
            {
                return new ClientCertificateRefusedException(Field, "must have a well-formed subject alternative name extension");
            }
        });
        return answer as ClaimsPrincipal ?? throw (ClientCertificateRefusedException)answer;
    }

    private ClaimsPrincipal Principal(X509Certificate2 certificate)
    {
        if (_authorities.Count == 0)
        {
            throw new ClientCertificateRefusedException(Field, $"is not accepted: no producer CA is configured ({s_caKey})");
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_authorities);
        chain.ChainPolicy.RevocationMode = _options.RevocationMode;
        chain.ChainPolicy.ApplicationPolicy.Add(s_clientAuth);
        chain.ChainPolicy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        if (!chain.Build(certificate))
        {
            var status = chain.ChainStatus.Select(s => s.Status).Aggregate(X509ChainStatusFlags.NoError, (a, b) => a | b);
            throw new ClientCertificateRefusedException(Field, status switch
            {
                _ when status.HasFlag(X509ChainStatusFlags.NotTimeValid) => "must be within its validity period (NotBefore..NotAfter)",
                _ when status.HasFlag(X509ChainStatusFlags.NotValidForUsage) => "must allow client authentication (extended key usage 1.3.6.1.5.5.7.3.2)",
                _ when status.HasFlag(X509ChainStatusFlags.Revoked) => "is revoked",
                _ when status.HasFlag(X509ChainStatusFlags.RevocationStatusUnknown) || status.HasFlag(X509ChainStatusFlags.OfflineRevocation)
                    => $"must have a known revocation status ({TlsOptions.SectionName}:{nameof(TlsOptions.ClientCertificates)}:{nameof(ClientCertificateOptions.RevocationMode)} is {_options.RevocationMode})",
                _ => $"must chain to a CA in {s_caKey} (chain status: {status})",
            });
        }

        var names = Names.Of(certificate);
        var producer = _options.Producers.FirstOrDefault(p =>
            (p.Uri is { } uri && names.Uris.Contains(uri, StringComparer.Ordinal))
            || (p.DnsName is { } dns && names.DnsNames.Contains(dns, StringComparer.OrdinalIgnoreCase))
            || (p.Email is { } email && names.Emails.Contains(email, StringComparer.OrdinalIgnoreCase))
            || (p.CommonName is { } cn && certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false) == cn))
            ?? throw new ClientCertificateRefusedException(Field, $"must match an entry of {s_producersKey} by Uri, DnsName, Email or CommonName");

        var identity = new ClaimsIdentity(
            [
                new Claim("sub", producer.Producer),
                new Claim(AuditClaims.Tenant, producer.Tenant),
                new Claim(AuditClaims.Scope, AuditClaims.WriteScope),
                new Claim("x5t#S256", Base64Url(certificate.GetCertHash(HashAlgorithmName.SHA256))),
            ],
            ClientCertificateAuthentication.Scheme,
            "sub",
            AuditClaims.Role);
        return new ClaimsPrincipal(identity);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The subject alternative names of a certificate that a mapping can match.</summary>
    private sealed record Names(List<string> Uris, List<string> DnsNames, List<string> Emails)
    {
        private static readonly Asn1Tag s_email = new(TagClass.ContextSpecific, 1);
        private static readonly Asn1Tag s_dns = new(TagClass.ContextSpecific, 2);
        private static readonly Asn1Tag s_uri = new(TagClass.ContextSpecific, 6);

        public static Names Of(X509Certificate2 certificate)
        {
            var names = new Names([], [], []);
            if (certificate.Extensions["2.5.29.17"] is not { } extension)
            {
                return names;
            }

            // GeneralNames (RFC 5280 §4.2.1.6): rfc822Name [1], dNSName [2] and uniformResourceIdentifier [6] are IA5Strings.
            var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
            while (reader.HasData)
            {
                var tag = reader.PeekTag();
                var list = tag.HasSameClassAndValue(s_uri) ? names.Uris
                    : tag.HasSameClassAndValue(s_dns) ? names.DnsNames
                    : tag.HasSameClassAndValue(s_email) ? names.Emails
                    : null;
                if (list is null)
                {
                    reader.ReadEncodedValue();
                }
                else
                {
                    list.Add(reader.ReadCharacterString(UniversalTagNumber.IA5String, tag));
                }
            }

            return names;
        }
    }
}
