using System.CommandLine;

namespace AuditStream.Server.Cli;

/// <summary>The <c>auditstream</c> command line: serve (default), token, keys, verify, export, bundle, append, tail, witness, report.</summary>
internal static class AuditStreamCommand
{
    public static RootCommand Create()
    {
        var serve = ServeCommand.Create();
        var root = new RootCommand("AuditStream: immutable audit trails you can watch live. Runs the server when no command is given.")
        {
            serve,
            TokenCommand.Create(),
            KeysCommand.Create(),
            VerifyCommand.Create(),
            ExportCommand.Create(),
            BundleCommand.Create(),
            AppendCommand.Create(),
            TailCommand.Create(),
            WitnessCommand.Create(),
            ReportCommand.Create(),
        };

        // `auditstream` alone runs the server with its defaults.
        root.SetAction((result, cancellationToken) => ServeCommand.RunAsync(urls: null, data: null, logLevel: null, cancellationToken));
        return root;
    }
}
