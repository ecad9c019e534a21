using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using AuditStream.LoadGen.Subscribe;

namespace AuditStream.LoadGen.Run;

/// <summary>A <c>subscribe</c> child process and its line protocol (see <see cref="SubscriberProcess"/>).</summary>
internal sealed class SubscriberChild : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    private SubscriberChild(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _lines.Writer.TryComplete();
            }
            else if (e.Data.StartsWith("ready ", StringComparison.Ordinal) || e.Data.StartsWith("report ", StringComparison.Ordinal))
            {
                _lines.Writer.TryWrite(e.Data);
            }
            else
            {
                Console.Error.WriteLine($"[subscriber {process.Id}] {e.Data}");
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine($"[subscriber {process.Id}] {e.Data}");
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    public static SubscriberChild Start(SubscriberSettings settings, bool inlineCompletions)
    {
        var info = SelfStartInfo();
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        if (inlineCompletions)
        {
            info.Environment["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1";
        }

        var args = info.ArgumentList;
        void Add(string name, string value)
        {
            args.Add(name);
            args.Add(value);
        }

        args.Add("subscribe");
        Add("--url", settings.Url.ToString());
        Add("--token", settings.Token);
        Add("--count", settings.Count.ToString(CultureInfo.InvariantCulture));
        Add("--first", settings.First.ToString(CultureInfo.InvariantCulture));
        Add("--types", settings.Types.ToString(CultureInfo.InvariantCulture));
        Add("--stalled-percent", settings.StalledPercent.ToString(CultureInfo.InvariantCulture));
        Add("--stalled-rcvbuf", settings.StalledReceiveBuffer.ToString(CultureInfo.InvariantCulture));
        Add("--read-buffer", settings.ReadBuffer.ToString(CultureInfo.InvariantCulture));
        Add("--connect-concurrency", settings.ConnectConcurrency.ToString(CultureInfo.InvariantCulture));
        Add("--protocol", settings.Protocol.ToString());
        Add("--latency-from", settings.LatencyFrom.ToString());
        if (!string.IsNullOrEmpty(settings.Query))
        {
            Add("--query", settings.Query);
        }

        if (settings.Sources.Count > 0)
        {
            Add("--sources", string.Join(',', settings.Sources));
        }

        return new SubscriberChild(Process.Start(info) ?? throw new InvalidOperationException("could not start a subscriber process"));
    }

    /// <summary>This program again: the apphost, or <c>dotnet</c> with the entry assembly when run through the muxer.</summary>
    private static ProcessStartInfo SelfStartInfo()
    {
        var processPath = Environment.ProcessPath ?? "dotnet";
        var info = new ProcessStartInfo(processPath);
        if (Path.GetFileNameWithoutExtension(processPath) == "dotnet")
        {
            info.ArgumentList.Add(typeof(SubscriberChild).Assembly.Location);
        }

        return info;
    }

    public async Task SendAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Waits for the next <c>ready</c>/<c>report</c> line and parses its JSON.</summary>
    public async Task<SubscriberReport> ReadAsync(string kind, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            var line = await _lines.Reader.ReadAsync(cancel.Token);
            if (!line.StartsWith(kind + " ", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"subscriber {Pid} sent '{line[..Math.Min(40, line.Length)]}…' when '{kind}' was expected");
            }

            return JsonSerializer.Deserialize<SubscriberReport>(line.AsSpan(kind.Length + 1), SubscriberProcess.Json)!;
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException($"subscriber {Pid} exited before '{kind}' (see its output above)");
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"subscriber {Pid} sent no '{kind}' within {timeout.TotalSeconds:F0} s");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await SendAsync("stop");
                _process.StandardInput.Close();
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                await _process.WaitForExitAsync(wait.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            _process.Kill(entireProcessTree: true);
        }
        finally
        {
            _process.Dispose();
        }
    }
}
