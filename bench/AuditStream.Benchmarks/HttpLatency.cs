using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace AuditStream.Benchmarks;

/// <summary>
/// Single-event POST latency at a fixed offered rate against a running server: requests start on a schedule (open
/// loop) over a pool of keep-alive connections; latency is from the scheduled start to the 201 (i.e. durable commit).
/// </summary>
internal static class HttpLatency
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var url = new Uri(args.String("url") ?? "http://127.0.0.1:5081/");
        var token = args.String("token") ?? Environment.GetEnvironmentVariable("AUDITSTREAM_TOKEN") ?? "";
        var rate = args.Int("rate", 1_000);
        var seconds = args.Int("seconds", 10);
        using var http = HttpIngest.Client(url, token, 256);
        await RunAsync(http, rate, 2);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var (fromSchedule, fromSend) = await RunAsync(http, rate, seconds);
        var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        Console.WriteLine(
            $"http-latency offered_per_s={rate} samples={fromSend.Length} from_send: {Percentiles(fromSend)} " +
            $"from_schedule: {Percentiles(fromSchedule)} loadgen_cpu_cores={cpuUsed.TotalSeconds / clock.Elapsed.TotalSeconds:F2}");
        return 0;
    }

    /// <summary>
    /// From the send: the server's answer time. From the schedule: also counts the generator starting a request late
    /// (its timer has ~1 ms granularity), which an open-loop generator must not hide.
    /// </summary>
    private static string Percentiles(long[] samples)
    {
        Array.Sort(samples);
        double P(double q) => samples[Math.Min(samples.Length - 1, (int)(q * samples.Length))] * 1000.0 / Stopwatch.Frequency;
        return $"p50_ms={P(0.50):F3} p90_ms={P(0.90):F3} p99_ms={P(0.99):F3} p999_ms={P(0.999):F3} max_ms={samples[^1] * 1000.0 / Stopwatch.Frequency:F3}";
    }

    private static async Task<(long[] FromSchedule, long[] FromSend)> RunAsync(HttpClient http, int rate, int seconds)
    {
        var total = rate * seconds;
        var samples = new long[total];
        var fromSend = new long[total];
        var pending = new Task[total];
        var start = Stopwatch.GetTimestamp();
        var ticksPerRequest = (double)Stopwatch.Frequency / rate;
        for (var i = 0; i < total; i++)
        {
            var due = start + (long)(i * ticksPerRequest);
            var wait = due - Stopwatch.GetTimestamp();
            if (wait > Stopwatch.Frequency / 1000)
            {
                await Task.Delay(TimeSpan.FromTicks(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
            }

            pending[i] = PostAsync(http, i, due, samples, fromSend);
        }

        await Task.WhenAll(pending);
        return (samples, fromSend);
    }

    private static async Task PostAsync(HttpClient http, int i, long due, long[] samples, long[] fromSend)
    {
        await Task.Yield();
        var sent = Stopwatch.GetTimestamp();
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(BenchEvents.Json(i)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync("api/v1/events", content);
        var now = Stopwatch.GetTimestamp();
        samples[i] = now - due;
        fromSend[i] = now - sent;
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }
}
