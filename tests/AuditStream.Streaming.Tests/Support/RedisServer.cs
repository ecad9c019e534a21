using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AuditStream.Streaming.Tests.Support;

/// <summary>
/// A real Redis for tests: a throw-away <c>redis-server</c> on a free loopback port with a temp directory and no
/// persistence, which a test may kill (-9) and start again on the same port; killed and deleted on dispose. Or the
/// server named by <c>AUDITSTREAM_TEST_REDIS</c> (a StackExchange.Redis configuration string), which cannot be killed.
/// </summary>
/// <remarks>A missing <c>redis-server</c> fails every test using it, saying what to install; they never skip.</remarks>
public sealed class RedisServer : IAsyncLifetime
{
    public const string EnvironmentVariable = "AUDITSTREAM_TEST_REDIS";
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);

    private readonly StringBuilder _output = new();
    private string? _directory;
    private Process? _process;
    private int _port;

    /// <summary>The StackExchange.Redis configuration string of the server.</summary>
    public string ConfigurationString { get; private set; } = "";

    /// <summary>False when the tests use an existing server (<see cref="EnvironmentVariable"/>).</summary>
    public bool IsOwned => _directory is not null;

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } external)
        {
            ConfigurationString = external;
            return;
        }

        _directory = Directory.CreateTempSubdirectory("auditstream-redis-").FullName;
        _port = FreePort();
        ConfigurationString = $"127.0.0.1:{_port}";
        await StartAsync();
    }

    /// <summary>Kills the server with SIGKILL (no shutdown, no goodbye to clients) and waits for it to exit.</summary>
    public async Task KillAsync()
    {
        var process = _process ?? throw NotOwned();
        _process = null;
        process.Kill(entireProcessTree: true);
        using var timeout = new CancellationTokenSource(s_startTimeout);
        await process.WaitForExitAsync(timeout.Token);
        process.Dispose();
    }

    /// <summary>Starts the server again on the same port (empty: it saves nothing).</summary>
    public Task RestartAsync()
    {
        if (!IsOwned)
        {
            throw NotOwned();
        }

        return _process is null ? StartAsync() : throw new InvalidOperationException("redis-server is running; kill it first.");
    }

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            await KillAsync();
        }

        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private async Task StartAsync()
    {
        var start = new ProcessStartInfo(FindBinary())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        foreach (var argument in (string[])["--port", $"{_port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _directory!, "--daemonize", "no", "--loglevel", "notice"])
        {
            start.ArgumentList.Add(argument);
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        DataReceivedEventHandler onLine = (_, line) =>
        {
            if (line.Data is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(line.Data);
            }

            if (line.Data.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.OutputDataReceived += onLine;
        process.ErrorDataReceived += onLine;
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"redis-server exited with {process.ExitCode}:\n{Output()}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        try
        {
            await ready.Task.WaitAsync(s_startTimeout);
            await PingAsync();
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException($"redis-server did not answer PING on port {_port} within {s_startTimeout.TotalSeconds} s:\n{Output()}");
        }
    }

    /// <summary>PING over a raw socket: the server answers <c>+PONG</c> once it serves clients.</summary>
    private async Task PingAsync()
    {
        using var timeout = new CancellationTokenSource(s_startTimeout);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _port, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token);
        var buffer = new byte[16];
        var read = await stream.ReadAsync(buffer, timeout.Token);
        var answer = Encoding.ASCII.GetString(buffer, 0, read);
        if (!answer.StartsWith("+PONG", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"redis-server on port {_port} answered PING with '{answer.Trim()}'.");
        }
    }

    private string Output()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }

    private static InvalidOperationException NotOwned() =>
        new($"Only a redis-server these tests started can be killed and restarted (unset {EnvironmentVariable}).");

    private static string FindBinary()
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin").Append("/usr/sbin")
            .Select(d => Path.Combine(d, "redis-server"))
            .FirstOrDefault(File.Exists);
        return found ?? throw new InvalidOperationException(
            $"redis-server was not found on the PATH. Install it (apt-get install redis-server; ./test.sh does) or set {EnvironmentVariable} " +
            "to the configuration string (host:port) of a Redis the tests may publish on.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
