using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AuditStream.Server.Tests.Tls;

/// <summary>CAs, server and client certificates made for one test (ECDSA P-256), written as PEM files on request.</summary>
internal static class TestCertificates
{
    public static X509Certificate2 Authority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>A server certificate for 127.0.0.1 and localhost issued by <paramref name="authority"/>.</summary>
    public static X509Certificate2 Server(X509Certificate2 authority, string name = "auditstream-test-server")
    {
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        return Issue(authority, $"CN={name}", names, "1.3.6.1.5.5.7.3.1");
    }

    /// <summary>A client certificate (extended key usage clientAuth) with a URI SAN when given.</summary>
    public static X509Certificate2 Client(X509Certificate2 authority, string commonName, string? uri = null)
    {
        var names = new SubjectAlternativeNameBuilder();
        if (uri is not null)
        {
            names.AddUri(new Uri(uri));
        }

        return Issue(authority, $"CN={commonName}", uri is null ? null : names, "1.3.6.1.5.5.7.3.2");
    }

    /// <summary>Writes the certificate and its key as PEM; returns (certificate path, key path).</summary>
    public static (string Certificate, string Key) WritePem(X509Certificate2 certificate, string directory, string name)
    {
        Directory.CreateDirectory(directory);
        var certificatePath = Path.Combine(directory, name + ".crt");
        var keyPath = Path.Combine(directory, name + ".key");
        WriteAtomically(certificatePath, certificate.ExportCertificatePem());
        WriteAtomically(keyPath, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }

    public static string WriteCertificatePem(X509Certificate2 certificate, string path)
    {
        WriteAtomically(path, certificate.ExportCertificatePem());
        return path;
    }

    /// <summary>Accepts exactly the server certificates that chain to <paramref name="authority"/>.</summary>
    public static RemoteCertificateValidationCallback TrustOnly(X509Certificate2 authority) => (_, certificate, _, _) =>
    {
        if (certificate is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    };

    /// <summary>An HTTP client that trusts <paramref name="authority"/> and presents <paramref name="clientCertificate"/> when given.</summary>
    public static HttpClient HttpClient(Uri baseAddress, X509Certificate2 authority, X509Certificate2? clientCertificate = null, bool redirects = true) =>
        new(new SocketsHttpHandler
        {
            AllowAutoRedirect = redirects,
            SslOptions = ClientOptions(authority, clientCertificate),
        })
        { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };

    public static SslClientAuthenticationOptions ClientOptions(X509Certificate2 authority, X509Certificate2? clientCertificate = null) => new()
    {
        TargetHost = "127.0.0.1",
        RemoteCertificateValidationCallback = TrustOnly(authority),
        ClientCertificates = clientCertificate is null ? null : [clientCertificate],
        LocalCertificateSelectionCallback = clientCertificate is null ? null : (_, _, _, _, _) => clientCertificate,
    };

    private static X509Certificate2 Issue(X509Certificate2 authority, string subject, SubjectAlternativeNameBuilder? names, string usage)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        if (names is not null)
        {
            request.CertificateExtensions.Add(names.Build());
        }

        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using var issued = request.Create(authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(12), serial);
        return issued.CopyWithPrivateKey(key);
    }

    private static void WriteAtomically(string path, string content)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }
}
