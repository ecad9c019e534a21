using AuditStream.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="AuditStreamClient"/> as a singleton with its options and a resilient <see cref="HttpClient"/>.</summary>
public static class AuditStreamClientServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="AuditStreamClient"/> with options bound from the <c>AuditStream:Client</c> section of
    /// <paramref name="configuration"/> (then <paramref name="configure"/>), validated at start-up. Requests go through
    /// the <see cref="IHttpClientFactory"/> client <see cref="AuditStreamClientOptions.HttpClientName"/> with the standard
    /// resilience handler (retries with backoff, honouring <c>Retry-After</c>; safe because every event carries an id).
    /// </summary>
    public static IHttpClientBuilder AddAuditStreamClient(this IServiceCollection services, IConfiguration configuration, Action<AuditStreamClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = services.AddOptions<AuditStreamClientOptions>().Bind(configuration.GetSection(AuditStreamClientOptions.SectionName));
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        return AddCore(services);
    }

    /// <summary>Adds <see cref="AuditStreamClient"/> configured in code.</summary>
    public static IHttpClientBuilder AddAuditStreamClient(this IServiceCollection services, Action<AuditStreamClientOptions> configure)
    {
        services.AddOptions<AuditStreamClientOptions>().Configure(configure);
        return AddCore(services);
    }

    private static IHttpClientBuilder AddCore(IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AuditStreamClientOptions>, AuditStreamClientOptionsValidator>());
        services.AddOptions<AuditStreamClientOptions>().ValidateOnStart();
        services.TryAddSingleton(sp => new AuditStreamClient(
            sp.GetRequiredService<IHttpClientFactory>(),
            sp.GetRequiredService<IOptions<AuditStreamClientOptions>>(),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<TimeProvider>()));
        services.AddHostedService<AuditStreamClientShutdown>();
        var http = services.AddHttpClient(AuditStreamClientOptions.HttpClientName);
        http.AddStandardResilienceHandler();
        return http;
    }

    /// <summary>On graceful shutdown, sends what is buffered (for at most <see cref="AuditStreamClientOptions.ShutdownTimeout"/>) while the network is still up.</summary>
    private sealed class AuditStreamClientShutdown(IServiceProvider services) : Microsoft.Extensions.Hosting.IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            await services.GetRequiredService<AuditStreamClient>().DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed class AuditStreamClientOptionsValidator : IValidateOptions<AuditStreamClientOptions>
    {
        public ValidateOptionsResult Validate(string? name, AuditStreamClientOptions options)
        {
            var errors = options.Validate().Select(e => $"{AuditStreamClientOptions.SectionName}:{e}").ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
