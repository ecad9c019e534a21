using AuditStream.Classification;
using AuditStream.Events;
using AuditStream.Ledger;
using AuditStream.Ledger.Cluster;
using AuditStream.Ledger.Writing;
using AuditStream.Server.Api;
using AuditStream.Server.Cluster;
using AuditStream.Server.Hosting.RateLimits;
using AuditStream.Server.Hosting.Tls;
using AuditStream.Server.Auth;
using AuditStream.Server.Auth.Attributes;
using AuditStream.Server.Operations;
using AuditStream.Server.Privacy;
using AuditStream.Server.Sinks;
using AuditStream.Server.Streaming;
using AuditStream.Server.WebConsole;
using AuditStream.Server.Witnessing;
using AuditStream.Sinks.Configuration;
using AuditStream.Streaming.Hub;
using AuditStream.Validation;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Hosting;

/// <summary>Builds the AuditStream web application: configuration, auth, the ledger and the HTTP API.</summary>
public static partial class ServerHost
{
    /// <summary>The default listen address.</summary>
    public const string DefaultUrls = "http://localhost:8080";

    /// <summary>Creates the application; <paramref name="configure"/> may add configuration or services (tests, CLI options).</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = CreateBuilder(args, configure);

        // No "Server: Kestrel": what runs here is nobody's business but the operator's.
        // Stream clients are taken over on the connection layer (StreamConnectionTakeover), before TLS binds its endpoints.
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.ConfigureEndpointDefaults(Streaming.Connections.StreamConnectionTakeover.Use);
        });
        builder.AddAuditStreamTls();
        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        var configuration = builder.Configuration;
        services.AddValidatedOptions<LedgerOptions>(configuration, LedgerOptions.SectionName);
        services.AddValidatedOptions<ClusterOptions>(configuration, ClusterOptions.SectionName);
        services.AddValidatedOptions<ServerOptions>(configuration, ServerOptions.SectionName);
        services.AddValidatedOptions<AuthOptions>(configuration, AuthOptions.SectionName);
        services.AddValidatedOptions<HubOptions>(configuration, HubOptions.SectionName);
        services.AddValidatedOptions<OperationsOptions>(configuration, OperationsOptions.SectionName);
        services.AddValidatedOptions<PiiDetectionOptions>(configuration, PiiDetectionOptions.SectionName);
        services.AddSingleton<IngestPiiScreen>();
        services.AddOptions<ValidationOptions>().Bind(configuration.GetSection("AuditStream:Validation"));
        services.AddOptions<ClassifierOptions>().Bind(configuration.GetSection("AuditStream:Classification"));
        var operations = configuration.GetSection(OperationsOptions.SectionName).Get<OperationsOptions>() ?? new OperationsOptions();

        // Registered before the ledger's hosted service, so the meter listener exists when the ledger opens.
        services.AddAuditStreamMetrics(operations);
        services.AddAuditStreamHealthChecks();
        services.AddSingleton<HubStatistics>();
        services.AddHostedService(sp => sp.GetRequiredService<HubStatistics>());
        services.Configure<HostOptions>(o => o.ShutdownTimeout = operations.DrainTimeout);
        services.AddSingleton<StreamActivityRecorder>();
        services.AddSingleton<IStreamActivitySink>(sp => sp.GetRequiredService<StreamActivityRecorder>());
        services.AddSingleton(sp => new StreamHub(
            sp.GetRequiredService<IOptions<HubOptions>>().Value, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<IStreamActivitySink>())
        {
            Metrics = sp.GetRequiredService<HubMetrics>(),
            SubjectKeys = new LedgerSubjectKeys(sp.GetRequiredService<LedgerService>()),
            Proofs = sp.GetRequiredService<AuditStream.Streaming.Proofs.StreamProofs>(),
        });
        services.AddHostedService<HubOptionsReload>();

        // One set of event rules: the ledger prepares events with it, and ingest names every broken rule with it.
        services.AddSingleton(sp => new EventPreparer(
            sp.GetRequiredService<IOptions<ValidationOptions>>().Value, sp.GetRequiredService<IOptions<ClassifierOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<LedgerService>();
        services.AddSingleton<ClusterForwarder>();
        services.AddSingleton<IEventAppender>(sp => sp.GetRequiredService<ClusterForwarder>());
        services.AddHostedService(sp => sp.GetRequiredService<LedgerService>());
        services.AddCommitSignal(configuration);
        services.AddAuditStreamWitnessing(configuration);
        Streaming.StreamProofFeed.Register(services);

        // Registered after the ledger, so they stop first (hosted services stop in reverse order).
        services.AddHostedService(sp => sp.GetRequiredService<StreamActivityRecorder>());
        services.AddOptions<SinksOptions>()
            .Configure<IConfiguration>((options, configuration) => SinkEnvironment.Apply(configuration, options))
            .Bind(builder.Configuration.GetSection(SinksOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<SinksOptions>, SinksOptionsValidator>();
        services.AddSingleton<SinksService>();
        services.AddHostedService(sp => sp.GetRequiredService<SinksService>());
        services.AddSingleton<RetentionSchedule>();
        services.AddHostedService(sp => sp.GetRequiredService<RetentionSchedule>());
        services.AddProblemDetails();
        services.AddBrowserCors();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));

        var ledgerOptions = builder.Configuration.GetSection(LedgerOptions.SectionName).Get<LedgerOptions>() ?? new LedgerOptions();
        var authOptions = builder.Configuration.GetSection(AuthOptions.SectionName).Get<AuthOptions>() ?? new AuthOptions();
        var secret = authOptions.Authority is null && authOptions.JwksUrl is null ? SigningSecret.Load(authOptions, ledgerOptions.DataDirectory) : null;
        services.AddAuditStreamAuth(authOptions, secret);
        services.AddWebConsole(builder.Configuration, authOptions);
        services.AddAttributeRules(configuration);
        services.AddAuditStreamRateLimits(configuration);

        var app = builder.Build();
        app.UseAuditStreamResponseHeaders();
        app.UseAuditStreamTls();
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        // The web console's files (wwwroot) need no token: the page signs in itself and calls the API with a bearer token.
        app.UseWebConsole();

        // Before authentication: a preflight carries no token and is answered here, and refusals (401, 403) get the
        // CORS headers so that a listed page can read why.
        app.UseCors();

        // On the stream endpoints these authenticate nothing (StreamDeferredAuthentication): the endpoints do it themselves.
        app.UseAuthentication();
        app.UseAuditStreamRateLimits();
        app.UseAuthorization();

        // What a browser page on a listed origin may call (BrowserCors); /ws/audit checks the Origin itself, and the
        // operator endpoints (sinks, debug, probes, metrics) stay same-origin.
        var browserApi = app.MapGroup("").RequireCors(BrowserCors.PolicyName);
        browserApi.MapIngest();
        browserApi.MapEventReads();
        browserApi.MapErasure();
        browserApi.MapAuthzExplain();
        browserApi.MapRetention();
        browserApi.MapLedgerEndpoints();
        browserApi.MapTileEndpoints();
        browserApi.MapWitnessingEndpoints();
        browserApi.MapEventStream();
        app.MapConsoleSignIn();
        app.MapStreaming();
        app.MapClusterEndpoints();
        app.MapAuditStreamHealthChecks();
        app.MapAuditStreamMetrics(operations);
        app.MapDebugEndpoints();
        app.MapSinks();

        // Close stream clients (1001) before the server waits for its connections to end.
        app.Lifetime.ApplicationStopping.Register(() => app.Services.GetRequiredService<StreamHub>().Stop());

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var ledger = app.Services.GetRequiredService<LedgerService>().Ledger;
            foreach (var address in addresses)
            {
                Log.Listening(app.Logger, address, operations.MetricsEnabled ? operations.MetricsPath : "off", ledger.Describe, ledger.Head.Size);
            }
        });
        return app;
    }

    /// <summary>
    /// The builder with the server's configuration (appsettings.json, appsettings.{Environment}.json, environment variables,
    /// then <paramref name="configure"/>) and no services yet: what <c>serve --print-config</c> reads without starting anything.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls(builder.Configuration["urls"] ?? DefaultUrls);
        configure?.Invoke(builder);
        return builder;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, EventName = "Listening", Level = LogLevel.Information,
            Message = "AuditStream listening on {Address} (events API /api/v1/events, live stream /ws/audit and /api/v1/stream, signed checkpoint /api/v1/ledger/checkpoint, probes /live /ready /startup, Prometheus {MetricsPath}); ledger {Ledger} holds {Events} events")]
        public static partial void Listening(ILogger logger, string address, string metricsPath, string ledger, long events);
    }
}
