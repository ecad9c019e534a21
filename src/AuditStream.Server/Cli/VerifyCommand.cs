using System.CommandLine;
using AuditStream.Checkpoints;
using AuditStream.Ledger;
using AuditStream.Ledger.Verification;

namespace AuditStream.Server.Cli;

/// <summary><c>auditstream verify</c>: re-walks a ledger directory or an NDJSON export. Exit 0 valid, 1 tampered, 2 usage.</summary>
internal static class VerifyCommand
{
    public const int Valid = 0;
    public const int Tampered = 1;
    public const int Usage = 2;

    public static Command Create()
    {
        var ledger = new LedgerLocation();
        var export = new Option<FileInfo>("--export") { Description = "An NDJSON export (from seq 1) to verify instead of a data directory" };
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "A signed checkpoint saved earlier, to check the ledger against (detects truncation, rollback, rewriting)" };
        var key = new Option<string>("--key") { Description = "The note verifier key (name+hash+base64) or a file holding it. Default for --data: the key in the data directory" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress display (it is shown on standard error only when that is a terminal)" };
        var bundle = new Option<FileInfo>("--bundle") { Description = "An offline audit bundle (from `auditstream bundle`) to verify, with no server; pin the key with --key" };
        var witnessKeys = new Option<string[]>("--witness-key")
        {
            Description = "With --bundle: a witness's cosigner key (name+id+base64); the last checkpoint must be cosigned by --witness-quorum of them. Repeatable",
        };
        var quorum = new Option<int?>("--witness-quorum") { Description = "With --bundle: how many of the --witness-key witnesses must have cosigned. Default: all" };
        var command = new Command("verify", "Verify the hash chain, Merkle tree and checkpoints of a ledger (SQLite or PostgreSQL), an export, or an offline audit bundle (--bundle). Exit code 0 valid, 1 tampered (first bad seq printed), 2 usage error.")
        {
            export, checkpoint, key, quiet, bundle, witnessKeys, quorum,
        };
        ledger.AddTo(command);
        command.SetAction((result, cancellationToken) => result.GetValue(bundle) is { } file
            ? BundleOnly(ledger, result, export, checkpoint) ?? VerifyBundle.RunAsync(file, result.GetValue(key), result.GetValue(witnessKeys) ?? [], result.GetValue(quorum), cancellationToken)
            : RunAsync(ledger, result, result.GetValue(export), result.GetValue(checkpoint), result.GetValue(key), result.GetValue(quiet), cancellationToken));
        return command;
    }

    /// <summary>A usage error when --bundle comes with a ledger, --export or --checkpoint (a bundle carries its checkpoints); else null.</summary>
    private static Task<int>? BundleOnly(LedgerLocation ledger, ParseResult result, Option<FileInfo> export, Option<FileInfo> checkpoint)
    {
        if ((result.GetValue(ledger.Data) ?? result.GetValue(ledger.ConnectionString)) is null && result.GetValue(export) is null && result.GetValue(checkpoint) is null)
        {
            return null;
        }

        Console.Error.WriteLine("--bundle is verified on its own: give no --data, --connection-string, --export or --checkpoint with it.");
        return Task.FromResult(Usage);
    }

    private static async Task<int> RunAsync(LedgerLocation ledger, ParseResult result, FileInfo? export, FileInfo? checkpointFile, string? key, bool quiet, CancellationToken cancellationToken)
    {
        if ((result.GetValue(ledger.Data) ?? result.GetValue(ledger.ConnectionString)) is not null && export is not null)
        {
            Console.Error.WriteLine("Give either a ledger (--data, --connection-string) or --export, not both.");
            return Usage;
        }

        if (checkpointFile is { Exists: false })
        {
            Console.Error.WriteLine($"Checkpoint file {checkpointFile.FullName} does not exist.");
            return Usage;
        }

        if (key is not null && File.Exists(key))
        {
            key = (await File.ReadAllTextAsync(key, cancellationToken)).Trim();
        }

        var trusted = checkpointFile is null ? null : await File.ReadAllTextAsync(checkpointFile.FullName, cancellationToken);
        VerificationReport report;
        if (export is not null)
        {
            if (!export.Exists)
            {
                Console.Error.WriteLine($"Export file {export.FullName} does not exist.");
                return Usage;
            }

            using var reader = export.OpenText();
            report = await ExportVerifier.VerifyAsync(reader, new VerificationOptions { TrustedCheckpoint = trusted, VerifierKey = key }, cancellationToken);
        }
        else
        {
            if (await ledger.ResolveExistingAsync(result, cancellationToken) is not { } options)
            {
                return Usage;
            }

            if (key is null && File.Exists(options.ResolvedSigningKeyPath))
            {
                // A key from the same directory proves less than one pinned elsewhere, but still catches unsigned edits.
                using var signer = SigningKeyFile.LoadOrCreate(options.ResolvedSigningKeyPath, options.Origin);
                key = signer.VerifierKey;
            }

            // Read-only: verification never initializes or writes the store, so it can run beside a live server.
            await using var store = LedgerStores.Create(options);
            var progress = VerifyProgress.ForConsole(quiet);
            report = await new LedgerVerifier(store).VerifyAsync(new VerificationOptions { TrustedCheckpoint = trusted, VerifierKey = key, Progress = progress }, cancellationToken);
            progress?.Finish();
        }

        Console.WriteLine(report.ToString());
        return report.IsValid ? Valid : Tampered;
    }
}
