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
/// The Redis backplane of this instance, made once for the ledger id while the ledger opens (its channel is named from
/// the id, which only the opened store knows) and disposed with the container.
/// </summary>
internal sealed class BackplaneSignal(
    IOptions<BackplaneOptions> options,
    BackplaneMetrics metrics,
    ILogger<RedisCommitSignal> logger,
    TimeProvider timeProvider) : IAsyncDisposable
{
    private RedisCommitSignal? _signal;

    /// <summary>The signal, once the ledger is open.</summary>
    public ICommitSignal Signal => _signal ?? throw new InvalidOperationException("The backplane is made when the ledger opens.");

    /// <summary>The signal on the channel of <paramref name="ledgerId"/> (the same one on every call).</summary>
    public ICommitSignal Create(string ledgerId) =>
        _signal ??= new RedisCommitSignal(options.Value, ledgerId, metrics, logger, timeProvider);

    public ValueTask DisposeAsync() => _signal?.DisposeAsync() ?? ValueTask.CompletedTask;
}
