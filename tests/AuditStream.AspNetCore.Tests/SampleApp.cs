using System.Security.Claims;
using System.Text.Json.Nodes;
using AuditStream.AspNetCore;
using AuditStream.Client;
using AuditStream.Client.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuditStream.AspNetCore.Tests;

/// <summary>A small producer application on a loopback port, audited by the middleware into a real AuditStream server.</summary>
internal sealed class SampleApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private readonly InFlight _inFlight;

    private SampleApp(WebApplication app, InFlight inFlight)
    {
        _app = app;
        _inFlight = inFlight;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Http = new HttpClient { BaseAddress = new Uri(address + "/") };
    }

    public HttpClient Http { get; }

    public AuditStreamClient Client => _app.Services.GetRequiredService<AuditStreamClient>();

    public static async Task<SampleApp> StartAsync(RestartableServer audit, Action<AuditMiddlewareOptions>? configure = null, IDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var configuration = new Dictionary<string, string?>
        {
            ["AuditStream:Client:BaseAddress"] = audit.BaseAddress.ToString(),
            ["AuditStream:Client:Token"] = audit.ProducerToken(),
            ["AuditStream:Client:Linger"] = "00:00:00.005",
            ["AuditStream:Client:RetryMinDelay"] = "00:00:00.020",
            ["AuditStream:Client:RetryMaxDelay"] = "00:00:00.200",
            ["AuditStream:Client:ShutdownTimeout"] = "00:00:00.100",
            ["AuditStream:Middleware:ServiceName"] = "orders-api",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Services.AddAuditStream(builder.Configuration, configure);

        var app = builder.Build();
        var inFlight = new InFlight();

        // Outside the audit middleware: once no request is in flight, every request's audit event has been enqueued
        // (the middleware enqueues after the response, which the client may already have read).
        app.Use(async (context, next) =>
        {
            Interlocked.Increment(ref inFlight.Count);
            try
            {
                await next(context);
            }
            finally
            {
                Interlocked.Decrement(ref inFlight.Count);
            }
        });

        // Stands in for real authentication: the user named in X-User is signed in.
        app.Use((context, next) =>
        {
            if (context.Request.Headers["X-User"] is [{ } user])
            {
                context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, user)], "test"));
            }

            return next(context);
        });
        app.UseAuditStream();
        app.MapGet("/orders/{id}", (string id) => Results.Text($"order {id}"));
        app.MapGet("/health", () => "ok");
        app.MapGet("/missing", () => Results.NotFound());
        app.MapGet("/boom", IResult () => throw new InvalidOperationException("kaboom"));
        app.MapPost("/consents/{id}/revoke", (string id) => Results.NoContent())
            .WithAudit("consent.revoke", category: "compliance", targetRouteValue: "id");
        app.MapPost("/accounts/{id}/close", [Audited("account.close", Category = "financial")] (string id) => Results.Ok());
        app.MapPost("/invoices/{id}/pay", (string id, IAuditLogger audit) =>
        {
            audit.Log("invoice.paid", id, "financial", metadata: new Dictionary<string, object?> { ["amount"] = 42.5, ["currency"] = "EUR" });
            return Results.Ok();
        });
        await app.StartAsync();
        return new SampleApp(app, inFlight);
    }

    /// <summary>Sends everything the middleware enqueued, then reads the AuditStream ledger.</summary>
    public async Task<List<JsonNode>> RecordedAsync(RestartableServer audit)
    {
        using var cts = Wait.Bounded();
        while (Volatile.Read(ref _inFlight.Count) > 0)
        {
            await Task.Delay(5, cts.Token);
        }

        await Client.FlushAsync(cts.Token);
        return await audit.ReadAllAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Requests the sample app is still handling.</summary>
    private sealed class InFlight
    {
        public int Count;
    }
}
