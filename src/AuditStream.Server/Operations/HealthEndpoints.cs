using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AuditStream.Server.Operations;

/// <summary>
/// Kubernetes probes with ASP.NET Core health checks: <c>/live</c> (the process answers; no checks), <c>/ready</c>
/// (ledger open and writable, its store reachable, writer not stalled; a Redis backplane that is down only degrades it) and <c>/startup</c> (ledger open: schema migrated, signing key loaded).
/// Each answers 200 or 503 with JSON naming every check, its status and why; <c>failing</c> lists the unhealthy ones.
/// </summary>
internal static class HealthEndpoints
{
    public const string ReadyTag = "ready";
    public const string StartupTag = "startup";

    /// <summary>The checks by name, with the probes they belong to.</summary>
    public static readonly (string Name, Type Type, string[] Tags)[] Checks =
    [
        ("ledger_open", typeof(LedgerOpenCheck), [ReadyTag, StartupTag]),
        ("ledger_writable", typeof(LedgerWritableCheck), [ReadyTag]),
        ("ledger_writer", typeof(LedgerWriterCheck), [ReadyTag]),
        ("ledger_store", typeof(LedgerStoreCheck), [ReadyTag]),
        ("ledger_cluster", typeof(ClusterHealthCheck), [ReadyTag]),
        ("backplane", typeof(BackplaneHealthCheck), [ReadyTag]),
        ("ledger_witnessing", typeof(Witnessing.WitnessingHealthCheck), [ReadyTag]),
    ];

    public static void AddAuditStreamHealthChecks(this IServiceCollection services)
    {
        var builder = services.AddHealthChecks();
        foreach (var (name, type, tags) in Checks)
        {
            services.AddSingleton(type);
            builder.Add(new HealthCheckRegistration(name, sp => (IHealthCheck)sp.GetRequiredService(type), failureStatus: null, tags));
        }

        services.AddSingleton<ServerGauges>();
    }

    public static void MapAuditStreamHealthChecks(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/live", new HealthCheckOptions { Predicate = static _ => false, ResponseWriter = WriteAsync });
        app.MapHealthChecks("/ready", new HealthCheckOptions { Predicate = static c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync });
        app.MapHealthChecks("/startup", new HealthCheckOptions { Predicate = static c => c.Tags.Contains(StartupTag), ResponseWriter = WriteAsync });
    }

    private static async Task WriteAsync(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json";
        http.Response.Headers.CacheControl = "no-store";
        await using var json = new Utf8JsonWriter(http.Response.Body);
        json.WriteStartObject();
        json.WriteString("status", Name(report.Status));
        json.WriteStartArray("failing");
        foreach (var (name, entry) in report.Entries)
        {
            if (entry.Status == HealthStatus.Unhealthy)
            {
                json.WriteStringValue(name);
            }
        }

        json.WriteEndArray();
        json.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", Name(entry.Status));
            json.WriteString("description", entry.Description ?? entry.Exception?.Message);
            json.WriteNumber("duration_ms", entry.Duration.TotalMilliseconds);
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
        await json.FlushAsync(http.RequestAborted);
    }

    private static string Name(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Degraded => "degraded",
        _ => "unhealthy",
    };
}
