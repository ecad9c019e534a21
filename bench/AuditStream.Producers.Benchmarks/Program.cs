using System.Diagnostics;
using System.Globalization;
using AuditStream.AspNetCore;
using AuditStream.Client;
using AuditStream.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// Usage:
//   middleware [--requests N]                      added time per request of UseAuditStream (p50, p99), in process
//   publish --url U --token T [--events N] [--batch B]   Enqueue throughput from one process to a running server
var command = args.Length > 0 ? args[0] : "";
string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

switch (command)
{
    case "middleware":
        return await MiddlewareAsync(int.Parse(Arg("--requests", "200000"), CultureInfo.InvariantCulture));
    case "publish":
        return await PublishAsync(new Uri(Arg("--url", "http://127.0.0.1:5081/")), Arg("--token", ""),
            int.Parse(Arg("--events", "500000"), CultureInfo.InvariantCulture), int.Parse(Arg("--batch", "1000"), CultureInfo.InvariantCulture));
    default:
        Console.Error.WriteLine("commands: middleware [--requests N] | publish --url U --token T [--events N] [--batch B]");
        return 2;
}

// The same request pipeline with and without the middleware, alternating request by request so both see the same
// machine state. The client's buffer is large enough to hold every event of the run and points at a closed port, so the
// measured path is the one a request pays (build the event, Enqueue), not the network.
static async Task<int> MiddlewareAsync(int requests)
{
    var builder = WebApplication.CreateSlimBuilder();
    builder.Logging.ClearProviders();
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["AuditStream:Client:BaseAddress"] = "http://127.0.0.1:9/",
        ["AuditStream:Client:BufferSize"] = (requests + 50_000).ToString(CultureInfo.InvariantCulture),
        ["AuditStream:Client:RetryMinDelay"] = "00:00:10",
        ["AuditStream:Client:RetryMaxDelay"] = "00:01:00",
        ["AuditStream:Client:ShutdownTimeout"] = "00:00:00.010",
    });
    builder.Services.AddAuditStream(builder.Configuration);
    await using var app = builder.Build();
    RequestDelegate endpoint = static context =>
    {
        context.Response.StatusCode = 200;
        context.Response.ContentLength = 2;
        return context.Response.Body.WriteAsync("ok"u8.ToArray()).AsTask();
    };
    var audited = new ApplicationBuilder(app.Services).UseAuditStream();
    audited.Run(endpoint);
    var withAudit = audited.Build();
    var route = new RouteEndpoint(endpoint, RoutePatternFactory.Parse("/orders/{id}"), 0, EndpointMetadataCollection.Empty, "orders");

    HttpContext NewContext(int i)
    {
        var context = new DefaultHttpContext { RequestServices = app.Services };
        context.Request.Method = "GET";
        context.Request.Path = "/orders/" + i.ToString(CultureInfo.InvariantCulture);
        context.Request.Headers.UserAgent = "bench/1.0";
        context.Connection.RemoteIpAddress = System.Net.IPAddress.Loopback;
        context.Response.Body = Stream.Null;
        context.SetEndpoint(route);
        return context;
    }

    // Warm-up (JIT, tiering).
    for (var i = 0; i < 20_000; i++)
    {
        await withAudit(NewContext(i));
        await endpoint(NewContext(i));
    }

    var plain = new long[requests];
    var audit = new long[requests];
    for (var i = 0; i < requests; i++)
    {
        var a = NewContext(i);
        var b = NewContext(i);
        var t0 = Stopwatch.GetTimestamp();
        await endpoint(a);
        var t1 = Stopwatch.GetTimestamp();
        await withAudit(b);
        var t2 = Stopwatch.GetTimestamp();
        plain[i] = t1 - t0;
        audit[i] = t2 - t1;
    }

    var client = app.Services.GetRequiredService<AuditStreamClient>();
    Array.Sort(plain);
    Array.Sort(audit);
    double Us(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
    double P(long[] sorted, double q) => Us(sorted[(int)Math.Min(sorted.Length - 1, q * sorted.Length)]);
    Console.WriteLine(FormattableString.Invariant(
        $"middleware requests={requests} dropped={client.DroppedEvents} plain_p50_us={P(plain, 0.5):F2} plain_p99_us={P(plain, 0.99):F2} audited_p50_us={P(audit, 0.5):F2} audited_p99_us={P(audit, 0.99):F2} added_p50_us={P(audit, 0.5) - P(plain, 0.5):F2} added_p99_us={P(audit, 0.99) - P(plain, 0.99):F2}"));
    return 0;
}

// One client, events enqueued as fast as the buffer takes them; the clock stops when the server committed the last one.
static async Task<int> PublishAsync(Uri url, string token, int events, int batch)
{
    await using var client = new AuditStreamClient(new HttpClient(), new AuditStreamClientOptions
    {
        BaseAddress = url,
        Token = token,
        BatchSize = batch,
        BufferSize = 100_000,
        Linger = TimeSpan.FromMilliseconds(2),
    });
    var start = Stopwatch.GetTimestamp();
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var dropped = 0;
    for (var i = 0; i < events; i++)
    {
        var e = new AuditEvent
        {
            Type = "data.accessed",
            Severity = "info",
            Category = "data",
            ActorId = "user-" + (i % 1000).ToString(CultureInfo.InvariantCulture),
            TargetId = "record-" + i.ToString(CultureInfo.InvariantCulture),
            Action = "read",
            Outcome = "success",
            TenantId = null,
        };
        while (!client.Enqueue(e))
        {
            // A full buffer is back-pressure here, not loss: wait for the sender instead of counting a drop.
            dropped++;
            await Task.Delay(1);
        }
    }

    await client.FlushAsync();
    var elapsed = Stopwatch.GetElapsedTime(start);
    var cores = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds / elapsed.TotalSeconds;
    Console.WriteLine(FormattableString.Invariant(
        $"publish events={events} batch={batch} seconds={elapsed.TotalSeconds:F2} events_per_s={events / elapsed.TotalSeconds:F0} client_cores={cores:F2} full_buffer_waits={dropped} rejected={client.RejectedEvents}"));
    return 0;
}
