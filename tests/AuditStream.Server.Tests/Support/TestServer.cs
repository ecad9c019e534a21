using System.Net.Http.Headers;
using System.Security.Cryptography;
using AuditStream.Server.Auth;
using AuditStream.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuditStream.Server.Tests.Support;

/// <summary>The real server (Kestrel) on a loopback port over a temp data directory, with helpers to mint tokens.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TokenIssuer _issuer;
    private readonly bool _ownsDirectory;

    private TestServer(WebApplication app, string dataDirectory, byte[] secret, bool ownsDirectory)
    {
        _app = app;
        DataDirectory = dataDirectory;
        Secret = secret;
        _ownsDirectory = ownsDirectory;
        _issuer = new TokenIssuer(secret, new AuthOptions(), TimeProvider.System);
        Addresses = [.. app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a.Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/"))];
        BaseAddress = Addresses[0];
    }

    /// <summary>Every address the server listens on (the first is <see cref="BaseAddress"/>).</summary>
    public IReadOnlyList<Uri> Addresses { get; }

    public Uri BaseAddress { get; }

    public string DataDirectory { get; }

    public byte[] Secret { get; }

    public IServiceProvider Services => _app.Services;

    public AuditStream.Ledger.AuditLedger Ledger => Services.GetRequiredService<LedgerService>().Ledger;

    public static async Task<TestServer> StartAsync(
        IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null,
        string? dataDirectory = null,
        byte[]? secret = null,
        string urls = "http://127.0.0.1:0")
    {
        var owns = dataDirectory is null;
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "auditstream-server-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);
        secret ??= RandomNumberGenerator.GetBytes(32);
        var configuration = new Dictionary<string, string?>
        {
            ["AuditStream:Ledger:DataDirectory"] = dataDirectory,
            ["AuditStream:Auth:SigningKey"] = Convert.ToBase64String(secret),
            ["AuditStream:Ledger:CheckpointInterval"] = "00:00:00.200",
            ["Logging:LogLevel:Default"] = "Warning",

            // Stream activity would interleave its own events with the seqs tests assert on; StreamActivityTests turns it on.
            ["AuditStream:Hub:RecordActivity"] = "false",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }

        var app = ServerHost.Build([], builder =>
        {
            builder.WebHost.UseUrls(urls);
            builder.Configuration.AddInMemoryCollection(configuration);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            services?.Invoke(builder.Services);
        });
        await app.StartAsync();
        return new TestServer(app, dataDirectory, secret, owns);
    }

    public string Token(string role, string? tenant = "acme", string[]? scopes = null, TimeSpan? ttl = null, string? audience = null, string? subject = null, bool mfa = false) =>
        _issuer.Issue(role, tenant, scopes ?? [], ttl ?? TimeSpan.FromHours(1), subject, audience, mfa);

    /// <summary>A token with exactly <paramref name="claims"/> besides the standard ones (malformed tenant claims, for instance).</summary>
    public string TokenWithClaims(IDictionary<string, object> claims)
    {
        var options = new AuthOptions();
        var now = DateTime.UtcNow;
        return new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(
            new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
            {
                Issuer = options.Issuer,
                Audience = options.Audience,
                IssuedAt = now,
                NotBefore = now,
                Expires = now.AddHours(1),
                Claims = claims,
                SigningCredentials = new Microsoft.IdentityModel.Tokens.SigningCredentials(
                    new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(Secret), Microsoft.IdentityModel.Tokens.SecurityAlgorithms.HmacSha256),
            });
    }

    public string ProducerToken(string tenant = "acme") => Token("operator", tenant, [AuditClaims.WriteScope]);

    public HttpClient Client(string? token = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public HttpClient Producer(string tenant = "acme") => Client(ProducerToken(tenant));

    public HttpClient Reader(string role = "admin", string? tenant = "*") => Client(Token(role, tenant));

    public async Task StopAsync() => await _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownsDirectory)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
