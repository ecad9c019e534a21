using AuditStream.Ledger.Feed;
using AuditStream.Server.Operations;
using AuditStream.Streaming.Backplane;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Hosting;

/// <summary>Registers the backplane of <c>AuditStream:Backplane</c> (DESIGN.md §6).</summary>
internal static class CommitSignalRegistration
{
    /// <summary>
    /// Validates <see cref="BackplaneOptions"/> at start-up and, when <c>AuditStream:Backplane:Redis</c> is set, registers
    /// <see cref="ICommitSignal"/> as one <see cref="RedisCommitSignal"/> on the ledger's channel. The channel is named from
    /// the ledger id, so <see cref="LedgerService"/> has <see cref="BackplaneSignal"/> make it while the ledger opens (the
    /// follower is woken through it from the start); the container disposes it when the host stops. Without Redis nothing is
    /// registered here.
    /// </summary>
    public static IServiceCollection AddCommitSignal(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<BackplaneOptions>(configuration, BackplaneOptions.SectionName);
        if (string.IsNullOrWhiteSpace(configuration[BackplaneOptions.RedisKey]))
        {
            return services;
        }

        services.AddSingleton<BackplaneSignal>();
        services.AddSingleton<ICommitSignal>(sp => sp.GetRequiredService<BackplaneSignal>().Signal);
        return services;
    }
}

/// <summary>
/// The Redis backplane of this instance, made once for the ledger id (its channel is named from the id, which only the
/// opened store knows): by <see cref="LedgerService"/> while the ledger opens, so a follower is woken through it from the
/// start, or on first use after that (a single SQLite instance has no follower). Disposed with the container.
/// </summary>
internal sealed class BackplaneSignal(
    IOptions<BackplaneOptions> options,
    BackplaneMetrics metrics,
    ILogger<RedisCommitSignal> logger,
    TimeProvider timeProvider,
    IServiceProvider services) : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private RedisCommitSignal? _signal;

    /// <summary>The signal on the open ledger's channel.</summary>
    /// <remarks>Resolved lazily: <see cref="LedgerService"/> depends on this type, so it cannot be a constructor argument.</remarks>
    public ICommitSignal Signal => _signal ?? Create(services.GetRequiredService<LedgerService>().Ledger.LedgerId);

    /// <summary>The signal if it was made already (null before the ledger opened, or before first use with SQLite), for the health check.</summary>
    public RedisCommitSignal? Current
    {
        get
        {
            lock (_lock)
            {
                return _signal;
            }
        }
    }

    /// <summary>The signal on the channel of <paramref name="ledgerId"/> (the same one on every call).</summary>
    public ICommitSignal Create(string ledgerId)
    {
        lock (_lock)
        {
            return _signal ??= new RedisCommitSignal(options.Value, ledgerId, metrics, logger, timeProvider);
        }
    }

    public ValueTask DisposeAsync() => _signal?.DisposeAsync() ?? ValueTask.CompletedTask;
}
