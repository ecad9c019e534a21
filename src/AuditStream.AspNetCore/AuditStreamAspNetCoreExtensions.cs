using AuditStream.AspNetCore;
using AuditStream.AspNetCore.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of the AuditStream request middleware and <see cref="IAuditLogger"/>.</summary>
public static class AuditStreamAspNetCoreExtensions
{
    /// <summary>
    /// Adds the AuditStream client (section <c>AuditStream:Client</c>), the middleware options (section
    /// <c>AuditStream:Middleware</c>, then <paramref name="configure"/>) and <see cref="IAuditLogger"/>.
    /// </summary>
    public static IServiceCollection AddAuditStream(this IServiceCollection services, IConfiguration configuration, Action<AuditMiddlewareOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddAuditStreamClient(configuration);
        var options = services.AddOptions<AuditMiddlewareOptions>().Bind(configuration.GetSection(AuditMiddlewareOptions.SectionName));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(o => o.SamplingRate is >= 0 and <= 1, $"{AuditMiddlewareOptions.SectionName}:SamplingRate must be between 0 and 1.").ValidateOnStart();
        services.AddHttpContextAccessor();
        services.TryAddSingleton<IAuditLogger, AuditLogger>();
        return services;
    }

    /// <summary>Records every request that the rules let through as an audit event. Place it early, after exception handling.</summary>
    public static IApplicationBuilder UseAuditStream(this IApplicationBuilder app) => app.UseMiddleware<AuditMiddleware>();

    /// <summary>Records this endpoint's requests as the event <paramref name="eventType"/>, always (see <see cref="AuditedAttribute"/>).</summary>
    public static TBuilder WithAudit<TBuilder>(this TBuilder builder, string eventType, string? category = null, string? severity = null, string? targetRouteValue = null)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AuditedAttribute(eventType) { Category = category, Severity = severity, TargetRouteValue = targetRouteValue });
}
