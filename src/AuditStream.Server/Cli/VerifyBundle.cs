using System.Text.Json;
using AuditStream.Checkpoints;
using AuditStream.Client.Verification;
using AuditStream.Server.Bundles;

namespace AuditStream.Server.Cli;

/// <summary><c>auditstream verify --bundle FILE</c>: checks an offline audit bundle with no server. Exit codes as verify's.</summary>
internal static class VerifyBundle
{
    public static async Task<int> RunAsync(FileInfo file, string? key, string[] witnessKeys, int? quorum, CancellationToken cancellationToken)
    {
        if (!file.Exists)
        {
            await Console.Error.WriteLineAsync($"Bundle file {file.FullName} does not exist.");
            return VerifyCommand.Usage;
        }

        WitnessPolicy? witnesses = null;
        if (witnessKeys.Length > 0 || quorum is not null)
        {
            try
            {
                witnesses = new WitnessPolicy(witnessKeys, quorum ?? witnessKeys.Length);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException)
            {
                await Console.Error.WriteLineAsync($"--witness-key/--witness-quorum: {ex.Message}");
                return VerifyCommand.Usage;
            }
        }

        AuditBundle? bundle;
        try
        {
            await using var stream = file.OpenRead();
            bundle = await JsonSerializer.DeserializeAsync(stream, AuditBundleJsonContext.Default.AuditBundle, cancellationToken);
        }
        catch (JsonException ex)
        {
            Console.WriteLine($"modified: the bundle is not readable JSON of {AuditBundle.FormatV1}: {ex.Message}");
            return VerifyCommand.Tampered;
        }

        if (bundle is null || bundle.Format != AuditBundle.FormatV1)
        {
            await Console.Error.WriteLineAsync($"{file.FullName} is not an {AuditBundle.FormatV1} bundle (format: {bundle?.Format ?? "none"}).");
            return VerifyCommand.Usage;
        }

        NoteVerifier? verifier;
        if (key is not null)
        {
            verifier = await VerifierKeys.ParseAsync(key, cancellationToken);
        }
        else
        {
            // Loud on purpose: a key taken from the bundle proves the bundle is self-consistent, not that the ledger's operator signed it.
            await Console.Error.WriteLineAsync(
                "WARNING: no --key given: the checkpoints are checked against the key INSIDE the bundle, which whoever wrote the bundle chose. " +
                "Pin the ledger's public key (GET /api/v1/ledger/public-key, obtained independently) with --key.");
            if (!NoteVerifier.TryParse(bundle.VerifierKey, out verifier, out var error))
            {
                Console.WriteLine($"bad_signature: the bundle's verifier key is not a key: {error}");
                return VerifyCommand.Tampered;
            }
        }

        if (verifier is null)
        {
            return VerifyCommand.Usage;
        }

        var report = AuditBundleVerifier.Verify(bundle, verifier, witnesses);
        Console.WriteLine(report.ToString());
        if (report.IsValid)
        {
            Console.WriteLine(bundle.Filter is null
                ? $"range: seqs {bundle.FromSeq}–{bundle.ToSeq}, complete (every seq present)"
                : $"range: seqs {bundle.FromSeq}–{bundle.ToSeq}, filtered by {bundle.Filter}: gaps are expected and completeness is not proved");
            Console.WriteLine($"signed by: {verifier.VerifierKey} ({(key is null ? "the bundle's own key, NOT pinned" : "pinned with --key")})");
            Console.WriteLine(witnesses is null ? "witnesses: not checked (no --witness-key)" : $"witnesses: at least {witnesses.Quorum} cosigned the last checkpoint");
        }

        return report.IsValid ? VerifyCommand.Valid : VerifyCommand.Tampered;
    }
}
