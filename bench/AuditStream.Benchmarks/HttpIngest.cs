using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace AuditStream.Benchmarks;

/// <summary>
/// End-to-end durable HTTP ingest against a running server (a separate process): C connections each POST NDJSON
/// batches of B events in a loop for S seconds after W seconds of warm-up; every 201 means the batch was committed. Reports events/s and the
/// load generator's own CPU share, and with <c>--server-pid</c> the server's CPU time per event over the measured seconds
/// (user + system from <c>/proc/&lt;pid&gt;/stat</c>: less sensitive to other load on the machine than events/s).
/// </summary>
internal static class HttpIngest
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var url = new Uri(args.String("url") ?? "http://127.0.0.1:5081/");
        var token = args.String("token") ?? Environment.GetEnvironmentVariable("AUDITSTREAM_TOKEN") ?? "";
        var connections = args.Int("connections", 8);
        var batch = args.Int("batch", 1_000);
        var seconds = args.Int("seconds", 10);
        var warmup = args.Int("warmup", 2);
        var personal = args.Flag("pii") ? Personal.Pii : Enum.Parse<Personal>(args.String("personal") ?? "none", ignoreCase: true);
        var serverPid = args.Int("server-pid", 0);
        using var http = Client(url, token, connections);

        // Pre-built bodies: the generator must not be what is measured.
        var bodies = Enumerable.Range(0, 64).Select(b => Encoding.UTF8.GetBytes(string.Join('\n',
            Enumerable.Range(0, batch).Select(i => BenchEvents.Json((b * batch) + i, personal))))).ToArray();

        await RunForAsync(TimeSpan.FromSeconds(warmup));
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var serverCpu = ServerCpuTicks(serverPid);
        var clock = Stopwatch.StartNew();
        var (events, refused) = await RunForAsync(TimeSpan.FromSeconds(seconds));
        var elapsed = clock.Elapsed;
        var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var serverCpuUs = (ServerCpuTicks(serverPid) - serverCpu) * 1e6 / TicksPerSecond;
        Console.WriteLine(
            $"http-ingest connections={connections} batch={batch} personal={personal.ToString().ToLowerInvariant()} events={events} seconds={elapsed.TotalSeconds:F2} events_per_s={events / elapsed.TotalSeconds:F0} " +
            $"refused_429={refused} loadgen_cpu_cores={cpuUsed.TotalSeconds / elapsed.TotalSeconds:F2}" +
            (serverPid > 0 ? $" server_cpu_us_per_event={serverCpuUs / Math.Max(events, 1):F2}" : ""));
        return 0;

        async Task<(long Events, long Refused)> RunForAsync(TimeSpan duration)
        {
            long total = 0, busy = 0;
            var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            await Task.WhenAll(Enumerable.Range(0, connections).Select(c => Task.Run(async () =>
            {
                for (var n = c; Stopwatch.GetTimestamp() < until; n += connections)
                {
                    using var content = new ByteArrayContent(bodies[n % bodies.Length]);
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
                    using var response = await http.PostAsync("api/v1/events", content);
                    if (response.StatusCode == HttpStatusCode.Created)
                    {
                        Interlocked.Add(ref total, batch);
                    }
                    else if (response.StatusCode == HttpStatusCode.TooManyRequests)
                    {
                        Interlocked.Increment(ref busy);
                        await Task.Delay(5);
                    }
                    else
                    {
                        throw new InvalidOperationException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                    }
                }
            })));
            return (total, busy);
        }
    }

    // USER_HZ: 100 on every Linux the bench runs on (sysconf(_SC_CLK_TCK) has no public .NET API).
    private const double TicksPerSecond = 100;

    // utime + stime (fields 14 and 15 of /proc/<pid>/stat, after the parenthesised command name), in clock ticks.
    private static long ServerCpuTicks(int pid)
    {
        if (pid <= 0)
        {
            return 0;
        }

        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
    }

    public static HttpClient Client(Uri url, string token, int connections)
    {
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        var http = new HttpClient(handler) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }
}
