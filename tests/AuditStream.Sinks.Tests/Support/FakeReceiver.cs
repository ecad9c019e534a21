using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuditStream.Sinks.Tests.Support;

/// <summary>One request as the receiver saw it.</summary>
public sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, DateTimeOffset At)
{
    public string Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : "";
}

/// <summary>What the receiver answers; <paramref name="Delay"/> holds the whole answer back, <paramref name="BodyDelay"/> only the body after the status line and headers are sent.</summary>
public sealed record Reply(int Status, string Body = "{}", IReadOnlyDictionary<string, string>? Headers = null, TimeSpan? Delay = null, TimeSpan? BodyDelay = null)
{
    /// <summary>When set, the whole answer waits until this task completes (a test decides when the sender gets it).</summary>
    public Task? Hold { get; init; }

    public static Reply Ok(string body = "{}") => new(200, body);
}

/// <summary>
/// A real HTTP server (Kestrel on 127.0.0.1, ephemeral port) standing in for Elasticsearch, Datadog, Slack, PagerDuty or
/// a webhook receiver: it records every request and answers with <see cref="Handler"/>, which a test swaps to fail on demand.
/// </summary>
public sealed class FakeReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private TaskCompletionSource _received = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FakeReceiver(WebApplication app) => _app = app;

    public Func<ReceivedRequest, Reply> Handler { get; set; } = _ => Reply.Ok();

    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests];

    /// <summary>Starts on <paramref name="port"/> of 127.0.0.1 (0: an ephemeral port).</summary>
    public static async Task<FakeReceiver> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new FakeReceiver(app);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.BaseAddress = new Uri(address + "/");
        return receiver;
    }

    /// <summary>A loopback port nothing listens on (yet): where a receiver that is down refuses connections.</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Completes when <paramref name="condition"/> holds over the requests so far; fails after <paramref name="timeout"/>.</summary>
    public async Task WaitUntilAsync(Func<IReadOnlyList<ReceivedRequest>, bool> condition, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var signal = Volatile.Read(ref _received);
            if (condition(Requests))
            {
                return;
            }

            try
            {
                await signal.Task.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"The receiver's condition did not hold within the timeout ({Requests.Count} requests received).");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
        var request = new ReceivedRequest(context.Request.Method, context.Request.Path + context.Request.QueryString, headers, body.ToArray(), DateTimeOffset.UtcNow);
        try
        {
            var reply = Handler(request);
            if (reply.Delay is { } delay)
            {
                await Task.Delay(delay, context.RequestAborted);
            }

            if (reply.Hold is { } hold)
            {
                await hold.WaitAsync(context.RequestAborted);
            }

            _requests.Enqueue(request);
            context.Response.StatusCode = reply.Status;
            context.Response.ContentType = "application/json";
            foreach (var (name, value) in reply.Headers ?? new Dictionary<string, string>())
            {
                context.Response.Headers[name] = value;
            }

            if (reply.BodyDelay is { } bodyDelay)
            {
                await context.Response.StartAsync();
                await context.Response.Body.FlushAsync();
                Signal();
                try
                {
                    await Task.Delay(bodyDelay, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            // Kestrel throws on a write to a 204 response, even an empty one (so the signal below was never given for them).
            if (reply.Body.Length > 0)
            {
                await context.Response.WriteAsync(reply.Body);
            }
        }
        finally
        {
            // Whatever became of the answer, the handler has seen the request: waiters look again.
            Signal();
        }
    }

    private void Signal() =>
        Interlocked.Exchange(ref _received, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
