using System.CommandLine;
using System.Text;
using System.Text.Json;
using AuditStream.Events;
using AuditStream.Ledger;
using AuditStream.Ledger.Sqlite;
using AuditStream.Ledger.Storage;
using AuditStream.Server.Api;

namespace AuditStream.Server.Cli;

/// <summary><c>auditstream export</c>: writes a local ledger as NDJSON (verifiable with <c>verify --export</c>) or CSV, streaming.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var data = CommonOptions.Data();
        var format = new Option<string>("--format") { Description = "ndjson or csv", DefaultValueFactory = _ => "ndjson" };
        format.AcceptOnlyFromAmong("ndjson", "csv");
        var since = new Option<long>("--since") { Description = "Export events with seq greater than this (0 = from the start)" };
        var output = new Option<FileInfo>("--out") { Description = "Output file. Default: standard output" };
        var command = new Command("export", "Export the local ledger (unmasked; read-only, safe beside a running server).") { data, format, since, output };
        command.SetAction((result, cancellationToken) =>
            RunAsync(result.GetValue(data), result.GetValue(format)!, result.GetValue(since), result.GetValue(output), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string? data, string format, long since, FileInfo? output, CancellationToken cancellationToken)
    {
        var options = CommonOptions.Configuration(data).GetSection(LedgerOptions.SectionName).Get<LedgerOptions>() ?? new LedgerOptions();
        if (!File.Exists(options.DatabasePath))
        {
            Console.Error.WriteLine($"No ledger at {Path.GetFullPath(options.DatabasePath)}.");
            return 2;
        }

        await using var store = new SqliteLedgerStore(options.DatabasePath);
        await using var stream = output is null ? Console.OpenStandardOutput() : output.Create();
        if (format == "csv")
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(CsvRow.Header), cancellationToken);
        }

        await using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { SkipValidation = true });
        var query = new EventQuery { AfterSeq = since, Limit = 1_000 };
        while (true)
        {
            var page = await store.QueryAsync(query, cancellationToken);
            foreach (var record in page.Records)
            {
                if (format == "csv")
                {
                    await stream.WriteAsync(Encoding.UTF8.GetBytes(CsvRow.Format(record, maskPii: false)), cancellationToken);
                }
                else
                {
                    EventJson.Write(json, record, maskPii: false);
                    await json.FlushAsync(cancellationToken);
                    json.Reset();
                    stream.WriteByte((byte)'\n');
                }
            }

            if (page.ScannedThroughSeq is not { } through)
            {
                break;
            }

            query = query with { AfterSeq = through };
        }

        await stream.FlushAsync(cancellationToken);
        return 0;
    }
}
