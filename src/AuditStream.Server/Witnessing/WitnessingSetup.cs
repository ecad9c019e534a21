using AuditStream.Server.Operations;

namespace AuditStream.Server.Witnessing;

/// <summary>Registers the witness client (<see cref="CheckpointWitnessing"/>) and its metrics.</summary>
internal static class WitnessingSetup
{
    /// <summary>Call after the ledger's hosted service, so witnessing starts after the ledger opens and stops before it closes.</summary>
    public static void AddAuditStreamWitnessing(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<WitnessingOptions>(configuration, WitnessingOptions.SectionName);
        services.AddSingleton<CheckpointWitnessing>();
        services.AddHostedService(sp => sp.GetRequiredService<CheckpointWitnessing>());
        services.AddSingleton<WitnessingMetrics>();
    }
}
