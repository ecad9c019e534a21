using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AuditStream.Server.Hosting.Tls;

/// <summary>
/// The server certificate (with its intermediates) that each new TLS connection gets. At most every
/// <see cref="TlsOptions.ReloadInterval"/> a handshake has the files read again in the background; when their content
/// changed and they load, later handshakes get the new certificate. Connections already open keep theirs.
/// </summary>
internal sealed partial class ServerCertificateSource
{
    private readonly TlsOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private SslStreamCertificateContext _current;
    private byte[] _fingerprint;
    private long _nextCheck;
    private int _checking;

    private ServerCertificateSource(TlsOptions options, TimeProvider time, ILogger logger, SslStreamCertificateContext current, byte[] fingerprint)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _current = current;
        _fingerprint = fingerprint;
        _nextCheck = NextCheck();
    }

    /// <summary>The certificate served now (its thumbprint is what a client sees).</summary>
    public X509Certificate2 Certificate => Volatile.Read(ref _current).TargetCertificate;

    /// <summary>Loads the configured files; a file that does not load is a configuration error naming its key.</summary>
    public static ServerCertificateSource Load(TlsOptions options, TimeProvider time, ILogger logger)
    {
        try
        {
            var fingerprint = Fingerprint(options);
            return new ServerCertificateSource(options, time, logger, Read(options), fingerprint);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw TlsOptions.CertificateError($"= '{options.CertificatePath}': the certificate and key do not load ({ex.GetType().Name}: {ex.Message})");
        }
    }

    /// <summary>The certificate context for a new handshake; starts a reload check when one is due.</summary>
    public SslStreamCertificateContext Current()
    {
        if (_options.ReloadInterval > TimeSpan.Zero && _time.GetTimestamp() >= Volatile.Read(ref _nextCheck)
            && Interlocked.CompareExchange(ref _checking, 1, 0) == 0)
        {
            _ = Task.Run(Check);
        }

        return Volatile.Read(ref _current);
    }

    private void Check()
    {
        try
        {
            var fingerprint = Fingerprint(_options);
            if (!fingerprint.AsSpan().SequenceEqual(_fingerprint))
            {
                var loaded = Read(_options);
                Volatile.Write(ref _current, loaded);
                _fingerprint = fingerprint;
                Log.Reloaded(_logger, loaded.TargetCertificate.Subject, loaded.TargetCertificate.Thumbprint, loaded.TargetCertificate.NotAfter);
            }
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            // A renewal caught between writing the certificate and the key: keep serving the old pair, try again later.
            Log.ReloadFailed(_logger, _options.CertificatePath!, ex.GetType().Name, ex.Message);
        }
        finally
        {
            Volatile.Write(ref _nextCheck, NextCheck());
            Volatile.Write(ref _checking, 0);
        }
    }

    private long NextCheck() => _time.GetTimestamp() + (long)(_options.ReloadInterval.TotalSeconds * _time.TimestampFrequency);

    // The files' content, not their times: a Kubernetes secret update swaps a symlink and keeps the old times.
    private static byte[] Fingerprint(TlsOptions options)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(File.ReadAllBytes(options.CertificatePath!));
        if (options.KeyPath is { } key)
        {
            hash.AppendData(File.ReadAllBytes(key));
        }

        return hash.GetHashAndReset();
    }

    private static SslStreamCertificateContext Read(TlsOptions options)
    {
        var path = options.CertificatePath!;
        X509Certificate2 leaf;
        var intermediates = new X509Certificate2Collection();
        if (IsPkcs12(path))
        {
            var all = X509CertificateLoader.LoadPkcs12CollectionFromFile(path, options.CertificatePassword);
            leaf = all.FirstOrDefault(c => c.HasPrivateKey) ?? throw new CryptographicException("The PKCS#12 file holds no certificate with a private key.");
            intermediates.AddRange(all.Where(c => !ReferenceEquals(c, leaf)).ToArray());
        }
        else
        {
            leaf = options.CertificatePassword is { } password
                ? X509Certificate2.CreateFromEncryptedPemFile(path, password, options.KeyPath)
                : X509Certificate2.CreateFromPemFile(path, options.KeyPath);
            var chain = new X509Certificate2Collection();
            chain.ImportFromPemFile(path);
            intermediates.AddRange(chain.Where(c => c.Thumbprint != leaf.Thumbprint).ToArray());
        }

        if (OperatingSystem.IsWindows())
        {
            // SChannel cannot use an ephemeral PEM key; a PKCS#12 round trip gives it a persisted one.
            leaf = X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pkcs12), null);
        }

        return SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
    }

    private static bool IsPkcs12(string path) =>
        path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase);

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, EventName = "ServerCertificateReloaded", Level = LogLevel.Information,
            Message = "TLS server certificate reloaded: {Subject}, thumbprint {Thumbprint}, valid until {NotAfter:u}")]
        public static partial void Reloaded(ILogger logger, string subject, string thumbprint, DateTime notAfter);

        [LoggerMessage(EventId = 301, EventName = "ServerCertificateReloadFailed", Level = LogLevel.Warning,
            Message = "TLS server certificate {Path} changed but does not load ({Error}: {Message}); still serving the previous one")]
        public static partial void ReloadFailed(ILogger logger, string path, string error, string message);
    }
}
