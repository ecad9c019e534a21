using System.Diagnostics.Metrics;
using AuditStream.Ledger;
using AuditStream.Streaming.Hub;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace AuditStream.Server.Operations;

/// <summary>
/// Prometheus metrics through OpenTelemetry: the ledger, hub and ingest meters (plain System.Diagnostics.Metrics, so
/// the inner projects depend on no exporter) plus ASP.NET Core's, Kestrel's and the runtime's own, scraped at
/// <see cref="OperationsOptions.MetricsPath"/>.
/// </summary>
internal static class MetricsSetup
{
    private static readonly string[] s_meters =
    [
        LedgerMetrics.MeterName,
        HubMetrics.MeterName,
        AuditStream.Streaming.Backplane.BackplaneMetrics.MeterName,
        IngestMetrics.MeterName,
        AuditStream.Server.Hosting.RateLimits.LayeredRateLimiter.MeterName,
        RetentionMetrics.MeterName,
        ServerGauges.MeterName,
        AuditStream.Sinks.Runtime.SinkMetrics.MeterName,
        Witnessing.WitnessingMetrics.MeterName,
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "System.Runtime",
    ];

    public static void AddAuditStreamMetrics(this IServiceCollection services, OperationsOptions options)
    {
        services.AddSingleton(sp => new LedgerMetrics(sp.GetRequiredService<IMeterFactory>()));
        services.AddSingleton(sp => new HubMetrics(sp.GetRequiredService<IMeterFactory>()));
        services.AddSingleton(sp => new AuditStream.Streaming.Backplane.BackplaneMetrics(sp.GetRequiredService<IMeterFactory>()));
        services.AddSingleton<IngestMetrics>();
        services.AddSingleton<RetentionMetrics>();
        if (!options.MetricsEnabled)
        {
            return;
        }

        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("auditstream"))
            .WithMetrics(metrics => metrics
                .AddMeter(s_meters)
                .AddPrometheusExporter(o =>
                {
                    o.ScrapeEndpointPath = options.MetricsPath;

                    // Every scrape reads the counters now; they are plain fields, so a scrape costs microseconds.
                    o.ScrapeResponseCacheDurationMilliseconds = 0;
                }));
    }

    public static void MapAuditStreamMetrics(this WebApplication app, OperationsOptions options)
    {
        // Creates the probe gauges (nothing else asks for them).
        app.Services.GetRequiredService<ServerGauges>();
        if (!options.MetricsEnabled)
        {
            return;
        }

        // The classic text format (0.0.4) keeps the documented names: OpenMetrics would strip "_total" from the
        // audit_websocket_connections_total gauge, whose name the original specification fixes.
        app.UseWhen(
            http => http.Request.Path.Equals(options.MetricsPath, StringComparison.Ordinal),
            branch => branch.Use((http, next) =>
            {
                http.Request.Headers.Accept = "text/plain; version=0.0.4";
                return next(http);
            }));
        app.MapPrometheusScrapingEndpoint(options.MetricsPath);
    }
}
