using System.CommandLine;
using AuditStream.Ledger;
using AuditStream.Server.Hosting;
using AuditStream.Server.Operations;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Cli;

/// <summary><c>auditstream serve</c>: runs the server, or prints the configuration it would run with.</summary>
internal static class ServeCommand
{
    /// <summary>Exit code when the configuration is invalid (sysexits.h EX_CONFIG).</summary>
    public const int ConfigurationError = 78;

    public static Command Create()
    {
        var urls = new Option<string>("--urls") { Description = $"Addresses to listen on, ';'-separated. Default: {ServerHost.DefaultUrls}" };
        var data = CommonOptions.Data();
        var logLevel = new Option<LogLevel?>("--log-level") { Description = "Minimum log level (Trace, Debug, Information, Warning, Error); sets Logging:LogLevel:Default. Default: from configuration (Information)" };
        var printConfig = new Option<bool>("--print-config")
        {
            Description = $"Print the effective configuration (every key, defaults included, secrets shown as {EffectiveConfiguration.Redacted}) and check it; exit 0 when valid, {ConfigurationError} naming each bad key otherwise. Starts nothing.",
        };
        var command = new Command("serve", "Run the AuditStream server (the default command).") { urls, data, logLevel, printConfig };
        command.SetAction((result, cancellationToken) => result.GetValue(printConfig)
            ? Task.FromResult(PrintConfig(result.GetValue(urls), result.GetValue(data), result.GetValue(logLevel)))
            : RunAsync(result.GetValue(urls), result.GetValue(data), result.GetValue(logLevel), cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(string? urls, string? data, LogLevel? logLevel, CancellationToken cancellationToken)
    {
        try
        {
            var app = ServerHost.Build([], builder => Configure(builder, urls, data, logLevel));
            await app.RunAsync(cancellationToken);
            return 0;
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync("The configuration is invalid; the server did not start:");
            foreach (var failure in ex.Failures)
            {
                await Console.Error.WriteLineAsync("  " + failure);
            }

            return ConfigurationError;
        }
        catch (InvalidOperationException ex) when (ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
        {
            // The binder's message names the key and the expected type.
            await Console.Error.WriteLineAsync("The configuration is invalid; the server did not start:");
            await Console.Error.WriteLineAsync("  " + ex.Message);
            return ConfigurationError;
        }
    }

    private static int PrintConfig(string? urls, string? data, LogLevel? logLevel)
    {
        var builder = ServerHost.CreateBuilder([], b => Configure(b, urls, data, logLevel));
        Console.Out.WriteLine($"# environment: {builder.Environment.EnvironmentName}");
        foreach (var (key, value) in EffectiveConfiguration.Collect(builder.Configuration))
        {
            Console.Out.WriteLine($"{key} = {value}");
        }

        var errors = EffectiveConfiguration.Validate(builder.Configuration);
        foreach (var error in errors)
        {
            Console.Error.WriteLine("invalid: " + error);
        }

        return errors.Count == 0 ? 0 : ConfigurationError;
    }

    private static void Configure(WebApplicationBuilder builder, string? urls, string? data, LogLevel? logLevel)
    {
        if (urls is not null)
        {
            builder.WebHost.UseUrls(urls);
            builder.Configuration.AddInMemoryCollection([new("urls", urls)]);
        }

        if (data is not null)
        {
            builder.Configuration.AddInMemoryCollection([new($"{LedgerOptions.SectionName}:DataDirectory", data)]);
        }

        if (logLevel is { } level)
        {
            // A configuration key, not SetMinimumLevel: appsettings' Logging:LogLevel:Default would otherwise win.
            builder.Configuration.AddInMemoryCollection([new("Logging:LogLevel:Default", level.ToString())]);
        }
    }
}
