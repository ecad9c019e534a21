using System.CommandLine;
using AuditStream.Ledger;
using AuditStream.Server.Hosting;

namespace AuditStream.Server.Cli;

/// <summary><c>auditstream serve</c>: runs the server.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string>("--urls") { Description = $"Addresses to listen on, ';'-separated. Default: {ServerHost.DefaultUrls}" };
        var data = CommonOptions.Data();
        var logLevel = new Option<LogLevel?>("--log-level") { Description = "Minimum log level (Trace, Debug, Information, Warning, Error). Default: Information" };
        var command = new Command("serve", "Run the AuditStream server (the default command).") { urls, data, logLevel };
        command.SetAction((result, cancellationToken) =>
            RunAsync(result.GetValue(urls), result.GetValue(data), result.GetValue(logLevel), cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(string? urls, string? data, LogLevel? logLevel, CancellationToken cancellationToken)
    {
        var app = ServerHost.Build([], builder =>
        {
            if (urls is not null)
            {
                builder.WebHost.UseUrls(urls);
            }

            if (data is not null)
            {
                builder.Configuration.AddInMemoryCollection([new($"{LedgerOptions.SectionName}:DataDirectory", data)]);
            }

            if (logLevel is { } level)
            {
                builder.Logging.SetMinimumLevel(level);
            }
        });
        await app.RunAsync(cancellationToken);
        return 0;
    }
}
