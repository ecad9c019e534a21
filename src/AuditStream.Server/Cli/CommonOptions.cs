using System.CommandLine;
using System.ComponentModel.DataAnnotations;
using AuditStream.Ledger;

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
    /// appsettings.json, appsettings.{Environment}.json, environment variables, then the command line's <paramref name="overrides"/>.
    /// </summary>
    public static IConfiguration Configuration(string? dataDirectory, params (string Key, string? Value)[] overrides)
    {
        var environment = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT")
            ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")
            ?? "Production";
        var builder = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, $"appsettings.{environment}.json"), optional: true)
            .AddEnvironmentVariables();
        var values = overrides.Prepend((Key: $"{LedgerOptions.SectionName}:DataDirectory", Value: dataDirectory))
            .Where(o => o.Value is not null)
            .Select(o => new KeyValuePair<string, string?>(o.Key, o.Value));
        builder.AddInMemoryCollection(values);
        return builder.Build();
    }
}

/// <summary>
/// The options naming the ledger a command works on: <c>--data</c>, <c>--provider</c> and <c>--connection-string</c>, each
/// over the configuration keys <c>AuditStream:Ledger:DataDirectory|Provider|ConnectionString</c> (environment
/// <c>AuditStream__Ledger__…</c>), as the server reads them.
/// </summary>
internal sealed class LedgerLocation
{
    public Option<string> Data { get; } = CommonOptions.Data();

    public Option<string> Provider { get; } = new("--provider")
    {
        Description = "Ledger store: sqlite or postgres. Default: AuditStream:Ledger:Provider, else sqlite",
    };

    public Option<string> ConnectionString { get; } = new("--connection-string")
    {
        Description = "PostgreSQL connection string (Host=…;Database=…;Username=…) for --provider postgres. Default: AuditStream:Ledger:ConnectionString",
    };

    public LedgerLocation() => Provider.AcceptOnlyFromAmong("sqlite", "postgres", "Sqlite", "Postgres");

    /// <summary>Adds the three options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Data);
        command.Options.Add(Provider);
        command.Options.Add(ConnectionString);
    }

    /// <summary>The ledger options of the parsed command line over the configuration; null (the errors, naming their keys, on standard error) when invalid.</summary>
    public LedgerOptions? Resolve(ParseResult result)
    {
        var section = LedgerOptions.SectionName;
        var configuration = CommonOptions.Configuration(
            result.GetValue(Data),
            ($"{section}:Provider", result.GetValue(Provider)),
            ($"{section}:ConnectionString", result.GetValue(ConnectionString)));
        LedgerOptions options;
        try
        {
            options = configuration.GetSection(section).Get<LedgerOptions>() ?? new LedgerOptions();
        }
        catch (InvalidOperationException ex)
        {
            Console.Error.WriteLine($"{section}: {ex.Message}");
            return null;
        }

        var errors = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), errors, validateAllProperties: true))
        {
            foreach (var error in errors)
            {
                Console.Error.WriteLine(error.ErrorMessage);
            }

            return null;
        }

        return options;
    }

    /// <summary>As <see cref="Resolve"/>, and null (saying so) when no ledger exists there: commands that only read never create one.</summary>
    public async Task<LedgerOptions?> ResolveExistingAsync(ParseResult result, CancellationToken cancellationToken)
    {
        if (Resolve(result) is not { } options)
        {
            return null;
        }

        if (!await LedgerStores.ExistsAsync(options, cancellationToken))
        {
            Console.Error.WriteLine($"No ledger at {LedgerStores.Describe(options)}.");
            return null;
        }

        return options;
    }
}
