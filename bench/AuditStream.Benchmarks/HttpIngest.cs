using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace AuditStream.Benchmarks;

/// <summary>
/// End-to-end durable HTTP ingest against a running server (a separate process): C connections each POST NDJSON
/// batches of B events in a loop for S seconds after W seconds of warm-up; every 201 means the batch was committed. Reports events/s and the
/// load generator's own CPU share.
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
        var pii = args.Flag("pii");
        using var http = Client(url, token, connections);

        // Pre-built bodies: the generator must not be what is measured.
        var bodies = Enumerable.Range(0, 64).Select(b => Encoding.UTF8.GetBytes(string.Join('\n',
            Enumerable.Range(0, batch).Select(i => BenchEvents.Json((b * batch) + i, pii))))).ToArray();

        await RunForAsync(TimeSpan.FromSeconds(warmup));
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var (events, refused) = await RunForAsync(TimeSpan.FromSeconds(seconds));
        var elapsed = clock.Elapsed;
        var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        Console.WriteLine(
            $"http-ingest connections={connections} batch={batch} pii={(pii ? "yes" : "no")} events={events} seconds={elapsed.TotalSeconds:F2} events_per_s={events / elapsed.TotalSeconds:F0} " +
            $"refused_429={refused} loadgen_cpu_cores={cpuUsed.TotalSeconds / elapsed.TotalSeconds:F2}");
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

    public static HttpClient Client(Uri url, string token, int connections)
    {
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        var http = new HttpClient(handler) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }
}
