using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using AuditStream.Server.Api;
using AuditStream.Server.Auth;
using AuditStream.Server.Streaming;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Hosting.RateLimits;

/// <summary>
/// The layered limits of <see cref="RateLimitOptions"/>: for each request class, partitioned token buckets
/// (System.Threading.RateLimiting) per subject, per tenant and per address, tried in that order — the narrowest first,
/// so a subject over its own limit spends none of its tenant's or its address's. A refusal names the class, the layer
/// and the kind of key (<c>sub</c>, <c>tenant</c>, <c>remote_address</c>), never a key's value.
/// Metric <c>audit_rate_limit_decisions_total{class, layer, outcome}</c> counts each layer's answers; no tenant or subject is a label.
/// </summary>
internal sealed class LayeredRateLimiter
{
    public const string MeterName = "AuditStream.RateLimits";

    private readonly Dictionary<string, Layer[]> _classes = [];
    private readonly Counter<long> _decisions;

    public LayeredRateLimiter(IOptions<RateLimitOptions> options, IMeterFactory meters)
    {
        var o = options.Value;
        Add("ingest", o.Ingest);
        Add("reads", o.Reads);
        Add("connections", o.Connections);
        _decisions = meters.Create(MeterName).CreateCounter<long>("audit_rate_limit_decisions_total", description: "Rate-limit answers by request class, layer (subject, tenant, address) and outcome (accepted, rejected).");
    }

    /// <summary>The class of a request, or null when no limit applies (probes, metrics, debug, console files, cluster).</summary>
    public static string? Classify(HttpRequest request)
    {
        if (StreamEndpoints.IsStreamPath(request.Path))
        {
            return "connections";
        }

        if (!request.Path.StartsWithSegments("/api/v1"))
        {
            return null;
        }

        return HttpMethods.IsPost(request.Method) && request.Path.Equals("/api/v1/events", StringComparison.Ordinal) ? "ingest" : "reads";
    }

    /// <summary>Takes one permit of every layer of <paramref name="requestClass"/>; the problem to answer (429) when a layer refuses, else null.</summary>
    public IResult? Acquire(HttpContext http, string requestClass)
    {
        if (!_classes.TryGetValue(requestClass, out var layers))
        {
            return null;
        }

        foreach (var layer in layers)
        {
            using var lease = layer.Limiter.AttemptAcquire(http);
            var accepted = lease.IsAcquired;
            _decisions.Add(1, new("class", requestClass), new("layer", layer.Name), new("outcome", accepted ? "accepted" : "rejected"));
            if (!accepted)
            {
                var retry = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 1;
                return Problems.RateLimited(requestClass, layer.Name, layer.Field, layer.Rule, retry);
            }
        }

        return null;
    }

    private void Add(string requestClass, RateLimitLayers layers)
    {
        var list = new List<Layer>();
        AddLayer(list, requestClass, "subject", "sub", nameof(RateLimitLayers.PerSubject), layers.PerSubject,
            static http => http.User.Identity?.IsAuthenticated == true ? StreamEndpoints.SubjectKey(http.User) : null);
        AddLayer(list, requestClass, "tenant", "tenant", nameof(RateLimitLayers.PerTenant), layers.PerTenant,
            static http => http.User.Identity?.IsAuthenticated == true ? (http.User.HasAllTenants() ? "*" : http.User.GetTenant()) : null);
        AddLayer(list, requestClass, "address", "remote_address", nameof(RateLimitLayers.PerAddress), layers.PerAddress, StreamEndpoints.AddressKey);
        if (list.Count > 0)
        {
            _classes[requestClass] = [.. list];
        }
    }

    private static void AddLayer(List<Layer> list, string requestClass, string name, string field, string key, RateLimit limit, Func<HttpContext, string?> partitionKey)
    {
        if (limit.Limit <= 0)
        {
            return;
        }

        var section = char.ToUpperInvariant(requestClass[0]) + requestClass[1..];
        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit.Limit,
            TokensPerPeriod = limit.Limit,
            ReplenishmentPeriod = limit.Period,
            QueueLimit = 0,
            AutoReplenishment = true,
        };
        var limiter = PartitionedRateLimiter.Create<HttpContext, string>(http => partitionKey(http) is { } value
            ? RateLimitPartition.GetTokenBucketLimiter(value, _ => bucket)
            : RateLimitPartition.GetNoLimiter(""));
        var rule = $"at most {limit.Limit} {requestClass} requests per {limit.Period:c} per {field} ({RateLimitOptions.SectionName}:{section}:{key})";
        list.Add(new Layer(name, field, rule, limiter));
    }

    private sealed record Layer(string Name, string Field, string Rule, PartitionedRateLimiter<HttpContext> Limiter);
}

/// <summary>Registration and the middleware of <see cref="LayeredRateLimiter"/>.</summary>
internal static class RateLimitSetup
{
    public static void AddAuditStreamRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimitOptions>().Bind(configuration.GetSection(RateLimitOptions.SectionName));
        services.AddSingleton<LayeredRateLimiter>();
    }

    /// <summary>After authentication (the subject and tenant are known), before authorization; stream paths are limited in the endpoint, after it authenticates.</summary>
    public static void UseAuditStreamRateLimits(this IApplicationBuilder app)
    {
        var limiter = app.ApplicationServices.GetRequiredService<LayeredRateLimiter>();
        app.Use(async (http, next) =>
        {
            if (LayeredRateLimiter.Classify(http.Request) is { } requestClass and not "connections" && limiter.Acquire(http, requestClass) is { } refused)
            {
                await refused.ExecuteAsync(http);
                return;
            }

            await next(http);
        });
    }
}
