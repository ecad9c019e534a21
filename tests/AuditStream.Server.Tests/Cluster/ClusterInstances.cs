using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Server.Auth;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Cluster;

/// <summary>
/// Real <c>auditstream serve</c> processes sharing one PostgreSQL ledger, each on its own loopback port (its advertised
/// URL), with its own data directory and the cluster's one signing key file and token secret.
/// </summary>
internal sealed class ClusterInstances : IAsyncDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "auditstream-cluster-tests", Guid.NewGuid().ToString("N"));
    private readonly byte[] _secret = RandomNumberGenerator.GetBytes(32);
    private readonly List<ServerProcess> _processes = [];

    private ClusterInstances(string connectionString) => ConnectionString = connectionString;

    public string ConnectionString { get; }

    public IReadOnlyList<ServerProcess> Processes => _processes;

    public static async Task<ClusterInstances> CreateAsync(PostgresServer postgres) => new(await postgres.CreateLedgerAsync());

    public Dictionary<string, string?> Environment(int? port = null)
    {
        var environment = new Dictionary<string, string?>
        {
            ["AuditStream__Ledger__Provider"] = "Postgres",
            ["AuditStream__Ledger__ConnectionString"] = ConnectionString,
            ["AuditStream__Ledger__SigningKeyPath"] = Path.Combine(_root, "cluster-signer.key"),
            ["AuditStream__Ledger__CheckpointInterval"] = "00:00:00.200",
            ["AuditStream__Auth__SigningKey"] = Convert.ToBase64String(_secret),
            ["AuditStream__Hub__RecordActivity"] = "false",

            // Subscribers here must see every seq: no delivery limit skips any.
            ["AuditStream__Hub__RateLimitPerSecond"] = "100000",
            ["AuditStream__Hub__RateLimitPerMinute"] = "1000000",

            // ServerProcess waits for the "listening on" line, logged at Information.
            ["Logging__LogLevel__Default"] = "Information",
        };
        if (port is { } p)
        {
            environment["AuditStream__Cluster__AdvertisedUrl"] = $"http://127.0.0.1:{p}";
        }

        return environment;
    }

    /// <summary>Starts one more instance, with <paramref name="settings"/> over the cluster's environment, and waits until it listens.</summary>
    public async Task<ServerProcess> StartAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var port = FreePort();
        var data = Path.Combine(_root, $"instance-{_processes.Count}");
        var environment = Environment(port);
        foreach (var (name, value) in settings ?? new Dictionary<string, string?>())
        {
            environment[name] = value;
        }

        var process = await ServerProcess.StartAsync(data, environment, $"http://127.0.0.1:{port}");
        _processes.Add(process);
        return process;
    }

    public string Token(string role, string? tenant, params string[] scopes) =>
        new TokenIssuer(_secret, new AuthOptions(), TimeProvider.System).Issue(role, tenant, scopes, TimeSpan.FromHours(1));

    public HttpClient Client(ServerProcess process, string? token)
    {
        var client = new HttpClient { BaseAddress = process.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public Uri StreamAddress(ServerProcess process, string query) =>
        new(new Uri(process.BaseAddress.ToString().Replace("http://", "ws://", StringComparison.Ordinal)), "ws/audit?token=" + Uri.EscapeDataString(Token("admin", "*")) + query);

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
