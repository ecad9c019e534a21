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
    /// the ledger id, so the signal is resolved once the ledger is open (<see cref="LedgerService"/> started); the container
    /// disposes it when the host stops. Without Redis nothing is registered here.
    /// </summary>
    public static IServiceCollection AddCommitSignal(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<BackplaneOptions>(configuration, BackplaneOptions.SectionName);
        if (string.IsNullOrWhiteSpace(configuration[BackplaneOptions.RedisKey]))
        {
            return services;
        }

        services.AddSingleton<ICommitSignal>(sp => new RedisCommitSignal(
            sp.GetRequiredService<IOptions<BackplaneOptions>>().Value,
            sp.GetRequiredService<LedgerService>().Ledger.LedgerId,
            sp.GetRequiredService<BackplaneMetrics>(),
            sp.GetRequiredService<ILogger<RedisCommitSignal>>(),
            sp.GetRequiredService<TimeProvider>()));
        return services;
    }
}
