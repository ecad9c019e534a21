using System.Diagnostics;
using System.Text.RegularExpressions;

namespace AuditStream.Server.Tests.Support;

/// <summary>Runs the built <c>auditstream</c> executable as a child process, as a user would.</summary>
internal static class Cli
{
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string? stdin, params string[] args) =>
        RunAsync(stdin, new Dictionary<string, string?>(), args);

    /// <summary>Runs with <paramref name="environment"/> set (a null value removes the variable).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string? stdin, IDictionary<string, string?> environment, params string[] args)
    {
        var start = StartInfo(environment, args);
        start.RedirectStandardInput = true;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary><c>dotnet auditstream.dll <paramref name="args"/></c> with stdout and stderr redirected and <paramref name="environment"/> set.</summary>
    public static ProcessStartInfo StartInfo(IDictionary<string, string?> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "auditstream.dll"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return start;
    }
}

/// <summary>
/// <c>auditstream serve</c> as a child process on an ephemeral loopback port: started when it logs the address it listens
/// on, stopped only by <see cref="KillAsync"/> (a hard kill of the process tree, as a crash or <c>kill -9</c> looks).
/// </summary>
internal sealed partial class ServerProcess : IAsyncDisposable
{
    private const int OutputLines = 200;

    private readonly Process _process;
    private readonly Queue<string> _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<(string Fragment, TaskCompletionSource Seen)> _awaited = [];

    private ServerProcess(Process process) => _process = process;

    /// <summary>Where the server listens.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The last lines the server wrote (stdout and stderr), for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    /// <summary>Starts <c>serve --data <paramref name="dataDirectory"/></c> with <paramref name="environment"/> and waits until it listens.</summary>
    public static async Task<ServerProcess> StartAsync(string dataDirectory, IDictionary<string, string?> environment, string urls = "http://127.0.0.1:0")
    {
        var start = Cli.StartInfo(environment, "serve", "--urls", urls, "--data", dataDirectory);
        var server = new ServerProcess(Process.Start(start)!);
        _ = server.PumpAsync(server._process.StandardOutput);
        _ = server.PumpAsync(server._process.StandardError);
        var exited = server._process.WaitForExitAsync();
        var started = await Task.WhenAny(server._listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(60)));
        if (started != server._listening.Task)
        {
            var what = started == exited ? $"exited with {server._process.ExitCode}" : "did not listen within 60 s";
            await server.DisposeAsync();
            throw new InvalidOperationException($"auditstream serve {what}:\n{server.Output}");
        }

        server.BaseAddress = await server._listening.Task;
        return server;
    }

    /// <summary>
    /// Starts watching for a line containing <paramref name="fragment"/>; the task completes when the server writes one
    /// (every line counts, not only the last ones <see cref="Output"/> keeps). Call it before what should cause the line.
    /// </summary>
    public Task WatchForLine(string fragment)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            _awaited.Add((fragment, seen));
        }

        return seen.Task;
    }

    /// <summary>Kills the server and everything it started, without any shutdown, and waits for it to be gone.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }

    private async Task PumpAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (_output)
            {
                _output.Enqueue(line);
                if (_output.Count > OutputLines)
                {
                    _output.Dequeue();
                }

                foreach (var (fragment, seen) in _awaited)
                {
                    if (line.Contains(fragment, StringComparison.Ordinal))
                    {
                        seen.TrySetResult();
                    }
                }
            }

            if (ListeningLine().Match(line) is { Success: true } match)
            {
                _listening.TrySetResult(new Uri(match.Groups[1].Value + "/"));
            }
        }
    }

    [GeneratedRegex(@"AuditStream listening on (http://\S+)")]
    private static partial Regex ListeningLine();
}
