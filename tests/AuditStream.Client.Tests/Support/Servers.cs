using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using AuditStream.Client;
using AuditStream.Events;
using AuditStream.Server.Tests.Support;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace AuditStream.Client.Tests.Support;

/// <summary>A real server that can be stopped and started again on the same port and data directory, as a restart looks to a client.</summary>
internal sealed class RestartableServer : IAsyncDisposable
{
    private readonly int _port;
    private readonly byte[] _secret = RandomNumberGenerator.GetBytes(32);

    private RestartableServer(int port, string dataDirectory)
    {
        _port = port;
        DataDirectory = dataDirectory;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
    }

    public string DataDirectory { get; }

    public Uri BaseAddress { get; }

    public TestServer? Current { get; private set; }

    public TestServer Server => Current ?? throw new InvalidOperationException("The server is stopped.");

    private IDictionary<string, string?>? _settings;

    public static async Task<RestartableServer> StartAsync(bool running = true, IDictionary<string, string?>? settings = null)
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var server = new RestartableServer(port, Path.Combine(Path.GetTempPath(), "auditstream-client-tests", Guid.NewGuid().ToString("N")));
        server._settings = settings;
        if (running)
        {
            await server.StartAgainAsync();
        }

        return server;
    }

    public async Task StartAgainAsync()
    {
        Current = await TestServer.StartAsync(
            settings: _settings,
            dataDirectory: DataDirectory,
            secret: _secret,
            services: s => s.Configure<KestrelServerOptions>(o => o.Listen(IPAddress.Loopback, _port)));
    }

    public async Task StopAsync()
    {
        if (Current is { } current)
        {
            Current = null;
            await current.DisposeAsync();
        }
    }

    public async Task RestartAsync()
    {
        await StopAsync();
        await StartAgainAsync();
    }

    /// <summary>A token issued while stopped must still verify after a restart: the secret is the same.</summary>
    public string ProducerToken() => new AuditStream.Server.Auth.TokenIssuer(_secret, new AuditStream.Server.Auth.AuthOptions(), TimeProvider.System)
        .Issue("operator", "acme", [AuditStream.Server.Auth.AuditClaims.WriteScope], TimeSpan.FromHours(1));

    public string AuditorToken() => new AuditStream.Server.Auth.TokenIssuer(_secret, new AuditStream.Server.Auth.AuthOptions(), TimeProvider.System)
        .Issue("auditor", "acme", [], TimeSpan.FromHours(1));

    public string ReaderToken() => new AuditStream.Server.Auth.TokenIssuer(_secret, new AuditStream.Server.Auth.AuthOptions(), TimeProvider.System)
        .Issue("admin", "*", [], TimeSpan.FromHours(1));

    public AuditStreamClient Client(string token, Action<AuditStreamClientOptions>? configure = null, HttpMessageHandler? handler = null)
    {
        var options = new AuditStreamClientOptions
        {
            BaseAddress = BaseAddress,
            Token = token,
            RetryMinDelay = TimeSpan.FromMilliseconds(20),
            RetryMaxDelay = TimeSpan.FromMilliseconds(500),
        };
        configure?.Invoke(options);
        return new AuditStreamClient(new HttpClient(handler ?? new SocketsHttpHandler()) { Timeout = TimeSpan.FromSeconds(30) }, options);
    }

    /// <summary>Every event in the ledger, in seq order, read over the HTTP API.</summary>
    public async Task<List<JsonNode>> ReadAllAsync()
    {
        using var http = Server.Reader();
        var events = new List<JsonNode>();
        long cursor = 0;
        while (true)
        {
            var page = JsonNode.Parse(await http.GetStringAsync($"api/v1/events?since_seq={cursor}&limit=1000"))!;
            var batch = page["events"]!.AsArray();
            events.AddRange(batch.Select(e => e!));
            cursor = page["cursor"]!.GetValue<long>();
            if (page["next"] is null)
            {
                return events;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class Sample
{
    public static AuditEvent Event(int i, string type = "data.accessed") => new()
    {
        Type = type,
        Severity = "info",
        Category = "data",
        ActorId = $"user-{i}",
        TargetId = $"record-{i}",
        Action = "read",
        Outcome = "success",
    };
}

/// <summary>Counts the requests that really go to the server.</summary>
internal sealed class CountingHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    private int _requests;

    public int Requests => _requests;

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        return base.SendAsync(request, cancellationToken);
    }
}

internal static class Wait
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static CancellationTokenSource Bounded() => new(Timeout);
}
