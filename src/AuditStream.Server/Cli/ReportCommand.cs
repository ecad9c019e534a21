using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AuditStream.Checkpoints;
using AuditStream.Events;
using AuditStream.Ledger;
using AuditStream.Ledger.Reports;

namespace AuditStream.Server.Cli;

/// <summary>
/// <c>auditstream report integrity</c>: SOX integrity evidence of a period, signed with the ledger's checkpoint key, as
/// JSON or a printable HTML page; <c>auditstream report verify</c> checks one. Exit 0 valid, 1 failed, 2 usage.
/// </summary>
internal static class ReportCommand
{
    public static Command Create() => new("report", "Integrity evidence for auditors: signed reports of a period, and their check.")
    {
        Integrity(),
        Verify(),
    };

    private static Command Integrity()
    {
        var ledger = new LedgerLocation();
        var from = new Option<DateTimeOffset>("--from") { Description = "Start of the period, RFC 3339 or a date (2026-01-01 is midnight UTC); inclusive", Required = true, CustomParser = ParseTime };
        var to = new Option<DateTimeOffset>("--to") { Description = "End of the period, RFC 3339 or a date; exclusive", Required = true, CustomParser = ParseTime };
        var tenant = new Option<string>("--tenant") { Description = "Count only this tenant's events (the verification and checkpoints are the whole ledger's)" };
        var output = new Option<FileInfo>("--out") { Description = "The report file to write. Default: standard output" };
        var format = new Option<string>("--format") { Description = "json or html (a printable self-contained page)", DefaultValueFactory = _ => "json" };
        format.AcceptOnlyFromAmong("json", "html");
        var command = new Command("integrity", "Write a signed integrity report of a period: the verification of the ledger (as `verify`), the signed checkpoints of the period with consistency proofs between consecutive ones, event counts per category and tenant, first and last seq and time, and the verifier key. Signed with the ledger's checkpoint key (c2sp.org/signed-note over the report's RFC 8785 JSON). Read-only. Exit 0 when the ledger verifies, 1 when it does not (the report is written either way), 2 usage error.")
        {
            from, to, tenant, output, format,
        };
        ledger.AddTo(command);
        command.SetAction((result, cancellationToken) => RunIntegrityAsync(
            ledger, result, result.GetValue(from), result.GetValue(to), result.GetValue(tenant), result.GetValue(output), result.GetValue(format)!, cancellationToken));
        return command;
    }

    private static Command Verify()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "A report written by `report integrity` (.json or .html)" };
        var key = new Option<string>("--key") { Description = "The ledger's published note verifier key (name+hash+base64) or a file holding it", Required = true };
        var command = new Command("verify", "Check a report's signature with the ledger's verifier key, and that the readable JSON or HTML says what was signed. Exit 0 valid, 1 altered or not signed by that key, 2 usage error.")
        {
            file, key,
        };
        command.SetAction((result, cancellationToken) => RunVerifyAsync(result.GetValue(file)!, result.GetValue(key)!, cancellationToken));
        return command;
    }

    private static async Task<int> RunIntegrityAsync(LedgerLocation ledger, ParseResult result, DateTimeOffset from, DateTimeOffset to, string? tenant, FileInfo? output, string format, CancellationToken cancellationToken)
    {
        if (to <= from)
        {
            await Console.Error.WriteLineAsync("--to must be after --from.");
            return VerifyCommand.Usage;
        }

        if (await ledger.ResolveExistingAsync(result, cancellationToken) is not { } options)
        {
            return VerifyCommand.Usage;
        }

        if (!File.Exists(options.ResolvedSigningKeyPath))
        {
            await Console.Error.WriteLineAsync($"No signing key at {options.ResolvedSigningKeyPath} (AuditStream:Ledger:SigningKeyPath): the report is signed with the ledger's checkpoint key.");
            return VerifyCommand.Usage;
        }

        using var signer = SigningKeyFile.LoadOrCreate(options.ResolvedSigningKeyPath, options.Origin);
        await using var store = LedgerStores.Create(options);
        var report = await IntegrityReportBuilder.BuildAsync(store, new IntegrityReportRequest(from, to, tenant), signer.Verifier, DateTimeOffset.UtcNow, cancellationToken);
        var note = IntegrityReport.SignNote(report, signer);
        var text = format == "html" ? IntegrityReportHtml.Render(report, note) : IntegrityReport.ToFile(report, note);
        if (output is null)
        {
            await Console.Out.WriteAsync(text);
        }
        else
        {
            await File.WriteAllTextAsync(output.FullName, text, cancellationToken);
        }

        using var parsed = JsonDocument.Parse(report);
        var verification = parsed.RootElement.GetProperty("verification");
        await Console.Error.WriteLineAsync($"{output?.FullName ?? "report"}: {verification.GetProperty("message").GetString()}; {parsed.RootElement.GetProperty("events").GetProperty("total").GetInt64()} events in the period; signed by {signer}");
        return verification.GetProperty("valid").GetBoolean() ? VerifyCommand.Valid : VerifyCommand.Tampered;
    }

    private static async Task<int> RunVerifyAsync(FileInfo file, string key, CancellationToken cancellationToken)
    {
        if (!file.Exists)
        {
            await Console.Error.WriteLineAsync($"Report file {file.FullName} does not exist.");
            return VerifyCommand.Usage;
        }

        if (await VerifierKeys.ParseAsync(key, cancellationToken) is not { } verifier)
        {
            return VerifyCommand.Usage;
        }

        var text = await File.ReadAllTextAsync(file.FullName, cancellationToken);
        string? report;
        string? error;
        if (text.TrimStart().StartsWith('<'))
        {
            // A page is valid only when it is exactly the rendering of the note it carries: nothing else on it was edited.
            var note = IntegrityReportHtml.ExtractNote(text);
            if (note is null)
            {
                error = "the page carries no <pre id=\"signed-note\">";
                report = null;
            }
            else if (IntegrityReport.TryOpenNote(note, verifier, out report, out error) && IntegrityReportHtml.Render(report, note) != text)
            {
                error = "the page differs from the rendering of its signed report: it was edited after signing";
                report = null;
            }
        }
        else
        {
            IntegrityReport.TryVerify(text, verifier, out report, out error);
        }

        if (report is null)
        {
            await Console.Out.WriteLineAsync($"invalid: {error}");
            return VerifyCommand.Tampered;
        }

        using var parsed = JsonDocument.Parse(report);
        var r = parsed.RootElement;
        var period = r.GetProperty("period");
        await Console.Out.WriteLineAsync(
            $"valid signature by {verifier.Name}: report of {period.GetProperty("from").GetString()} to {period.GetProperty("to").GetString()}, "
            + $"ledger verification {r.GetProperty("verification").GetProperty("result").GetString()}, {r.GetProperty("events").GetProperty("total").GetInt64()} events");
        return VerifyCommand.Valid;
    }

    private static DateTimeOffset ParseTime(System.CommandLine.Parsing.ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (Timestamps.TryParseRfc3339(text, out var time))
        {
            return time;
        }

        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        }

        result.AddError($"'{text}' is not a time: use RFC 3339 (2026-01-01T00:00:00Z) or a date (2026-01-01, midnight UTC).");
        return default;
    }
}
