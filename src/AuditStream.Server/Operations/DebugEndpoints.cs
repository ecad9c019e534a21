using System.Globalization;
using System.Text.Json;
using AuditStream.Filters;
using AuditStream.Server.Api;
using AuditStream.Server.Auth;
using AuditStream.Server.Hosting;
using AuditStream.Streaming.Hub;

namespace AuditStream.Server.Operations;

/// <summary>
/// Admin-only views of the live stream (DESIGN.md §6) under <c>/debug/websocket/audit</c>: <c>stats</c>, <c>metrics</c>,
/// <c>clients</c> (paged: <c>?page=1&amp;page_size=100</c>) and <c>config</c> (secrets redacted). 401 without a token, 403 for other roles.
/// </summary>
/// <remarks>
/// Tenants: <c>clients</c> lists only the clients of the caller's tenant (all of them when its token grants all
/// tenants). <c>stats</c>, <c>metrics</c> and <c>config</c> describe the whole server (counts over every tenant, the
/// configuration) and cannot be cut by tenant, so they answer 403 to an admin whose token names one tenant.
/// </remarks>
internal static class DebugEndpoints
{
    public const string Prefix = "/debug/websocket/audit";
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    public static void MapDebugEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Prefix).RequireAuthorization(AuditClaims.AdminPolicy);
        group.MapGet("/stats", Stats).RequireAuthorization(AuditClaims.ServerAdminPolicy);
        group.MapGet("/metrics", Metrics).RequireAuthorization(AuditClaims.ServerAdminPolicy);
        group.MapGet("/clients", Clients);
        group.MapGet("/config", Config).RequireAuthorization(AuditClaims.ServerAdminPolicy);
    }

    private static IResult Stats(HubMetrics metrics, HubStatistics statistics, StreamHub hub, LedgerService ledgers, TimeProvider time)
    {
        var rates = statistics.Rates();
        var ledger = ledgers.IsOpen ? ledgers.Ledger : null;
        var checkpoint = ledger?.Checkpoints.Latest;
        var status = ledger?.Writer.Status;
        var stats = new DebugStats(
            statistics.StartedAt,
            statistics.Uptime.TotalSeconds,
            new DebugConnections(
                metrics.ActiveConnections,
                metrics.PeakConnections,
                hub.Options.MaxClients,
                metrics.Connects,
                metrics.Disconnects,
                metrics.Refused,
                metrics.DisconnectsByReason,
                metrics.RefusedByReason,
                hub.Options.MaxClientsPerSubject,
                hub.Options.MaxClientsPerAddress,
                hub.ReservedPrivilegedClients),
            new DebugEvents(metrics.EventsPublished, metrics.EventsFiltered, metrics.EventsDropped, metrics.DroppedByReason, metrics.BytesSent, metrics.QueueDepth),
            new DebugRates(rates.Window.TotalSeconds, rates.EventsPublished, rates.EventsDropped, rates.Connects, rates.Disconnects, rates.BytesSent),
            new DebugLedger(
                ledger?.Head.Size ?? 0,
                ledger?.Writer.QueuedEvents ?? 0,
                checkpoint?.TreeSize,
                checkpoint is null ? null : (time.GetUtcNow() - DateTimeOffset.UnixEpoch.AddTicks(checkpoint.CreatedAtMicros * 10)).TotalSeconds,
                status?.LastCommitAt,
                status is { LastCommitFailed: true } s ? s.LastFailure : null));
        return Results.Json(stats, DebugJsonContext.Default.DebugStats);
    }

    private static IResult Metrics(HubMetrics metrics) =>
        Results.Json(
            new DebugHubMetrics(
                metrics.ActiveConnections,
                metrics.PeakConnections,
                metrics.Connects,
                metrics.Disconnects,
                metrics.DisconnectsByReason,
                metrics.Refused,
                metrics.RefusedByReason,
                metrics.EventsPublished,
                metrics.EventsFiltered,
                metrics.EventsDropped,
                metrics.DroppedByReason,
                metrics.BytesSent,
                metrics.QueueDepth,
                GC.GetTotalMemory(forceFullCollection: false)),
            DebugJsonContext.Default.DebugHubMetrics);

    private static IResult Clients(HttpContext http, StreamHub hub)
    {
        if (!TryPositive(http, "page", 1, int.MaxValue, out var page, out var problem)
            || !TryPositive(http, "page_size", DefaultPageSize, MaxPageSize, out var pageSize, out problem))
        {
            return problem!;
        }

        var scope = EventReadEndpoints.Scope(http);
        var all = hub.SnapshotClients().Where(c => scope.CoversTenant(c.TenantId)).ToList();
        var clients = all
            .Skip((int)Math.Min((long)(page - 1) * pageSize, int.MaxValue))
            .Take(pageSize)
            .Select(c => new DebugClient(
                c.ClientId,
                c.Role,
                c.TenantId,
                c.RemoteAddress,
                c.Transport,
                c.ConnectedAt,
                c.SinceSeq,
                JsonSerializer.SerializeToElement(c.Filter, StreamFilterJsonContext.Default.StreamFilter),
                c.QueueDepth,
                c.Delivered,
                c.Dropped,
                c.LastActivity))
            .ToList();
        var next = (long)page * pageSize < all.Count
            ? string.Create(CultureInfo.InvariantCulture, $"{Prefix}/clients?page={page + 1}&page_size={pageSize}")
            : null;
        return Results.Json(new DebugClientPage(all.Count, page, pageSize, next, clients), DebugJsonContext.Default.DebugClientPage);
    }

    private static IResult Config(IConfiguration configuration, IHostEnvironment environment) =>
        Results.Json(new DebugConfig(environment.EnvironmentName, EffectiveConfiguration.Collect(configuration)), DebugJsonContext.Default.DebugConfig);

    private static bool TryPositive(HttpContext http, string name, int fallback, int max, out int value, out IResult? problem)
    {
        problem = null;
        var text = http.Request.Query[name].ToString();
        if (text.Length == 0)
        {
            value = fallback;
            return true;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= 1 && value <= max)
        {
            return true;
        }

        problem = Problems.BadRequest($"{name} is out of range.", name, $"must be a whole number from 1 to {max}");
        return false;
    }
}
