using System.CommandLine;
using System.IO.Pipelines;
using AuditStream.Ledger;
using AuditStream.Ledger.Storage;
using AuditStream.Server.Api;

namespace AuditStream.Server.Cli;

/// <summary><c>auditstream export</c>: writes a local ledger as NDJSON (verifiable with <c>verify --export</c>) or CSV, streaming.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var ledger = new LedgerLocation();
        var format = new Option<string>("--format") { Description = "ndjson or csv", DefaultValueFactory = _ => "ndjson" };
        format.AcceptOnlyFromAmong("ndjson", "csv");
        var since = new Option<long>("--since") { Description = "Export events with seq greater than this (0 = from the start)" };
        var output = new Option<FileInfo>("--out") { Description = "Output file. Default: standard output" };
        var command = new Command("export", "Export a ledger, SQLite or PostgreSQL (unmasked; read-only, safe beside a running server).") { format, since, output };
        ledger.AddTo(command);
        command.SetAction((result, cancellationToken) =>
            RunAsync(ledger, result, result.GetValue(format)!, result.GetValue(since), result.GetValue(output), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(LedgerLocation ledger, ParseResult result, string format, long since, FileInfo? output, CancellationToken cancellationToken)
    {
        if (await ledger.ResolveExistingAsync(result, cancellationToken) is not { } options)
        {
            return 2;
        }

        await using var store = LedgerStores.Create(options);
        AuditStream.Privacy.ISubjectKeys keys = AuditStream.Privacy.NoSubjectKeys.Instance;
        AuditStream.Ledger.Privacy.SubjectKeyRing? ring = null;
        try
        {
            keys = ring = LedgerStores.OpenSubjectKeys(options, create: false);
        }
        catch (InvalidOperationException e)
        {
            await Console.Error.WriteLineAsync($"No subject keys ({e.Message}): encrypted pii is exported as \"[erased]\"; the export stays verifiable.");
        }

        using var disposeKeys = ring;
        await using var stream = output is null ? Console.OpenStandardOutput() : output.Create();
        var writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        await EventExport.WriteAsync(writer, store, new EventQuery { AfterSeq = since }, format == "csv", maskPii: false, keys, cancellationToken);
        await writer.CompleteAsync();
        return 0;
    }
}
