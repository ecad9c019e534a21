using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace AuditStream.Ledger.Tests.Support;

/// <summary>
/// A real PostgreSQL server for tests: a throw-away cluster (initdb into a temp directory, started on a free loopback
/// port, fsync on, stopped and deleted on dispose), or the server named by <c>AUDITSTREAM_TEST_POSTGRES</c> (a
/// connection string). Each ledger gets its own schema (<see cref="CreateLedgerAsync"/>): milliseconds, where a
/// database per test took 0.3 s of WAL-logged catalog copies.
/// </summary>
/// <remarks>Missing server binaries fail every test using it, saying what to install; they never skip.</remarks>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string EnvironmentVariable = "AUDITSTREAM_TEST_POSTGRES";
    private const string SystemUser = "postgres";

    private readonly List<string> _schemas = [];
    private string? _dataDirectory;
    private string? _binDirectory;
    private string _baseConnectionString = "";
    private string[] _startArguments = [];

    /// <summary>A connection string for the server's maintenance database (no schema of its own).</summary>
    public string ConnectionString => _baseConnectionString;

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } external)
        {
            _baseConnectionString = external;
            return;
        }

        _binDirectory = FindBinaries();
        var asSystemUser = Environment.UserName == "root";
        _dataDirectory = Path.Combine(Path.GetTempPath(), $"auditstream-pg-{Guid.NewGuid():N}");
        var port = FreePort();

        // initdb creates the directory (as postgres when run by root: the server refuses to run as root).
        // --no-sync only skips flushing initdb's own files; the running server has fsync on.
        await RunAsync(asSystemUser, "initdb", "-D", _dataDirectory, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync");
        _startArguments =
        [
            "-D", _dataDirectory, "-l", Path.Combine(_dataDirectory, "server.log"), "-w", "-t", "60",
            "-o", $"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={_dataDirectory} -c fsync=on -c synchronous_commit=on -c max_connections=200",
            "start",
        ];
        await RunAsync(asSystemUser, "pg_ctl", _startArguments);
        _baseConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=true";
    }

    /// <summary>A connection string for a new, empty ledger: a fresh schema first on the search path.</summary>
    public async Task<string> CreateLedgerAsync()
    {
        var schema = $"ledger_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(_baseConnectionString))
        {
            await connection.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
            await cmd.ExecuteNonQueryAsync();
        }

        lock (_schemas)
        {
            _schemas.Add(schema);
        }

        return new NpgsqlConnectionStringBuilder(_baseConnectionString) { SearchPath = schema }.ToString();
    }

    /// <summary>Restarts the throw-away server (fast shutdown: every session is cut), as an operator's restart or a failover looks to clients.</summary>
    public async Task RestartAsync()
    {
        await RunAsync(Environment.UserName == "root", "pg_ctl", "-D", ThrowAwayDirectory(), "-m", "fast", "-w", "-t", "60", "restart");

        // This process's pooled connections were cut: the next test must not pick one up.
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Stops the throw-away server (fast shutdown: every session is cut) until <see cref="StartAsync"/>, as an outage looks to clients.</summary>
    public async Task StopAsync()
    {
        await RunAsync(Environment.UserName == "root", "pg_ctl", "-D", ThrowAwayDirectory(), "-m", "fast", "-w", "-t", "60", "stop");
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Starts the throw-away server again after <see cref="StopAsync"/>, on the same port, and waits until it accepts connections.</summary>
    public async Task StartAsync()
    {
        ThrowAwayDirectory();
        await RunAsync(Environment.UserName == "root", "pg_ctl", _startArguments);
    }

    private string ThrowAwayDirectory() =>
        _dataDirectory ?? throw new InvalidOperationException($"Only the throw-away server can be stopped by a test; unset {EnvironmentVariable} to run this one.");

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_dataDirectory is null)
        {
            await DropSchemasAsync();
            return;
        }

        try
        {
            await RunAsync(Environment.UserName == "root", "pg_ctl", "-D", _dataDirectory, "-m", "immediate", "-w", "stop");
        }
        finally
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    private async Task DropSchemasAsync()
    {
        if (_schemas.Count == 0)
        {
            return;
        }

        await using var connection = new NpgsqlConnection(_baseConnectionString);
        await connection.OpenAsync();
        foreach (var schema in _schemas)
        {
            await using var cmd = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE", connection);
            await cmd.ExecuteNonQueryAsync();
        }
    }

    private static string FindBinaries()
    {
        const string root = "/usr/lib/postgresql";
        var found = Directory.Exists(root)
            ? Directory.GetDirectories(root)
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
                .Where(d => d.Version >= 15 && File.Exists(Path.Combine(d.Dir, "initdb")))
                .OrderByDescending(d => d.Version)
                .Select(d => d.Dir)
                .FirstOrDefault()
            : null;
        return found ?? throw new InvalidOperationException(
            $"PostgreSQL 15+ server binaries were not found under {root}/<version>/bin. Install them (apt-get install postgresql; ./test.sh does) " +
            $"or set {EnvironmentVariable} to the connection string of a server the tests may create schemas in.");
    }

    private async Task RunAsync(bool asSystemUser, string tool, params string[] args)
    {
        var path = Path.Combine(_binDirectory ?? FindBinaries(), tool);
        var start = asSystemUser
            ? new ProcessStartInfo("runuser", ["-u", SystemUser, "--", path, .. args])
            : new ProcessStartInfo(path, args);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {tool}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            var log = _dataDirectory is not null && File.Exists(Path.Combine(_dataDirectory, "server.log"))
                ? await File.ReadAllTextAsync(Path.Combine(_dataDirectory, "server.log"))
                : "";
            throw new InvalidOperationException(
                $"{tool} {string.Join(' ', args)} exited {process.ExitCode}{(asSystemUser ? $" (run as user '{SystemUser}')" : "")}:\n{await stdout}{await stderr}{log}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Test classes on the shared PostgreSQL server: one server per test run of the assembly, classes in sequence.</summary>
[CollectionDefinition(Name)]
public sealed class OnPostgres : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL";
}
