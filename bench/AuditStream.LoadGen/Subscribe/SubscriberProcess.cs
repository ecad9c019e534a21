using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using AuditStream.LoadGen.Stats;
using AuditStream.LoadGen.WebSockets;
using HdrHistogram;

namespace AuditStream.LoadGen.Subscribe;

/// <summary>
/// The <c>subscribe</c> child: opens its share of connections, prints <c>ready {json}</c>, then obeys lines on
/// standard input: <c>window START END</c> (Stopwatch ticks), <c>report</c> (prints <c>report {json}</c>),
/// <c>stop</c> (or end of input) closes every socket and exits.
/// </summary>
internal static class SubscriberProcess
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<int> RunAsync(SubscriberSettings settings, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var server = await ResolveAsync(settings.Url, cancellationToken);
        var host = settings.Url.Authority;
        var connections = new List<(Socket Socket, SubscriberConnection? Reader)>(settings.Count);
        var readers = new List<Task>(settings.Count);
        var failures = new Dictionary<string, int>(StringComparer.Ordinal);
        var connectTimes = Histograms.Create();
        var sync = new Lock();
        using var gate = new SemaphoreSlim(settings.ConnectConcurrency);

        await Task.WhenAll(Enumerable.Range(settings.First, settings.Count).Select(async index =>
        {
            await gate.WaitAsync(stop.Token);
            try
            {
                var stalled = settings.IsStalled(index);
                var source = settings.Sources.Count > 0 ? settings.Sources[index % settings.Sources.Count] : null;
                var buffer = GC.AllocateUninitializedArray<byte>(stalled ? 4096 : settings.ReadBuffer, pinned: true);
                var started = Stopwatch.GetTimestamp();
                var (socket, buffered) = await WsHandshake.ConnectAsync(
                    server, source, host, settings.PathAndQuery(index), stalled ? settings.StalledReceiveBuffer : 0, buffer, stop.Token);
                var opening = WireProtocols.Opening(settings.Protocol);
                if (!opening.IsEmpty)
                {
                    await socket.SendAsync(WsFrame.ClientFrame(WireProtocols.Opcode(settings.Protocol), opening), SocketFlags.None, stop.Token);
                }

                var elapsed = Stopwatch.GetTimestamp() - started;
                var reader = stalled ? null : new SubscriberConnection(socket, buffer, buffered, settings.Protocol, settings.LatencyFrom);
                lock (sync)
                {
                    connectTimes.RecordValue(Histograms.ToMicros(elapsed));
                    connections.Add((socket, reader));
                    if (reader is not null)
                    {
                        readers.Add(Task.Run(() => reader.RunAsync(stop.Token), CancellationToken.None));
                    }
                }
            }
            catch (Exception ex) when (ex is SocketException or WsHandshakeException or IOException)
            {
                var reason = ex is SocketException se ? se.SocketErrorCode.ToString() : ex.Message;
                lock (sync)
                {
                    failures[reason] = failures.GetValueOrDefault(reason) + 1;
                }
            }
            finally
            {
                gate.Release();
            }
        }));

        Console.WriteLine("ready " + JsonSerializer.Serialize(Report(connections, failures, connectTimes, settings), Json));
        // Console reads block the calling thread even when awaited; with inline socket completions that thread could be
        // an epoll thread, which would stall every socket it serves. Read standard input on a pool thread instead.
        while (await Task.Run(Console.In.ReadLine, CancellationToken.None) is { } line)
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
            {
                continue;
            }

            if (parts[0] == "window" && parts.Length == 3)
            {
                LatencyRecorder.SetWindow(long.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture));
            }
            else if (parts[0] == "report")
            {
                if (Environment.GetEnvironmentVariable("LOADGEN_DEBUG") == "1")
                {
                    foreach (var (socket, reader) in connections)
                    {
                        Console.Error.WriteLine($"{socket.LocalEndPoint} frames={reader?.Frames} published={reader?.Published} close={reader?.CloseCode} failure={reader?.Failure}");
                    }
                }

                Console.WriteLine("report " + JsonSerializer.Serialize(Report(connections, failures, connectTimes, settings), Json));
            }
            else if (parts[0] == "stop")
            {
                break;
            }
        }

        await stop.CancelAsync();
        foreach (var (socket, _) in connections)
        {
            socket.Dispose();
        }

        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return 0;
    }

    private static SubscriberReport Report(
        List<(Socket Socket, SubscriberConnection? Reader)> connections, Dictionary<string, int> failures, LongHistogram connectTimes, SubscriberSettings settings)
    {
        var readers = connections.Where(c => c.Reader is not null).Select(c => c.Reader!).ToArray();
        var closes = readers.Where(r => r.CloseCode is not null).GroupBy(r => r.CloseCode!.Value.ToString(CultureInfo.InvariantCulture))
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var broken = readers.Where(r => r.Failure is not null).GroupBy(r => r.Failure!)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return new SubscriberReport
        {
            Connected = connections.Count,
            Stalled = connections.Count - readers.Length,
            Failed = failures.Values.Sum(),
            FailureReasons = new Dictionary<string, int>(failures, StringComparer.Ordinal),
            Frames = readers.Sum(r => r.Frames),
            Published = readers.Sum(r => r.Published),
            PublishedInWindow = readers.Sum(r => r.PublishedInWindow),
            LatencySamples = readers.Sum(r => r.LatencySamples),
            PublishedMin = readers.Length > 0 ? readers.Min(r => r.Published) : 0,
            PublishedMax = readers.Length > 0 ? readers.Max(r => r.Published) : 0,
            Gaps = readers.Sum(r => r.Gaps),
            ErrorMessages = readers.Sum(r => r.ErrorMessages),
            Closes = closes,
            Broken = broken,
            Latency = Histograms.Encode(LatencyRecorder.Merge()),
            ConnectTime = Histograms.Encode(connectTimes),
        };
    }

    private static async Task<IPEndPoint> ResolveAsync(Uri url, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(url.Host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(url.Host, cancellationToken);
        var address = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses[0];
        return new IPEndPoint(address, url.Port);
    }
}
