using System.CommandLine;

namespace AuditStream.Server.Cli;

/// <summary>Options shared by several commands.</summary>
internal static class CommonOptions
{
    public static Option<string> Data() => new("--data")
    {
        Description = "Ledger data directory (SQLite file, signing keys). Default: AuditStream:Ledger:DataDirectory, else ./data",
    };

    /// <summary>
    /// Configuration for commands that work on the data directory, read like the server reads it:
    /// appsettings.json, appsettings.{Environment}.json, environment variables, then --data.
    /// </summary>
    public static IConfiguration Configuration(string? dataDirectory)
    {
        var environment = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT")
            ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")
            ?? "Production";
        var builder = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, $"appsettings.{environment}.json"), optional: true)
            .AddEnvironmentVariables();
        if (dataDirectory is not null)
        {
            builder.AddInMemoryCollection([new($"{AuditStream.Ledger.LedgerOptions.SectionName}:DataDirectory", dataDirectory)]);
        }

        return builder.Build();
    }

    /// <summary>The ledger options a command works with (configuration, then <c>--data</c>).</summary>
    public static AuditStream.Ledger.LedgerOptions LedgerOptions(string? dataDirectory) =>
        Configuration(dataDirectory).GetSection(AuditStream.Ledger.LedgerOptions.SectionName).Get<AuditStream.Ledger.LedgerOptions>() ?? new AuditStream.Ledger.LedgerOptions();
}
