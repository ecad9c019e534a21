using System.CommandLine;
using System.Text.Json;
using AuditStream.Checkpoints;
using AuditStream.Filters;
using AuditStream.Ledger;
using AuditStream.Ledger.Storage;
using AuditStream.Server.Bundles;
using AuditStream.Validation;

namespace AuditStream.Server.Cli;

/// <summary>
/// <c>auditstream bundle</c>: writes an offline audit bundle of a ledger (SQLite or PostgreSQL, read-only) that
/// <c>auditstream verify --bundle</c> checks with no access to the server.
/// </summary>
internal static class BundleCommand
{
    public static Command Create()
    {
        var ledger = new LedgerLocation();
        var from = new Option<long>("--from") { Description = "First seq of the range", DefaultValueFactory = _ => 1 };
        var to = new Option<long?>("--to") { Description = "Last seq of the range. Default: the size of the checkpoint proved against" };
        var filters = new Option<string[]>("--filter")
        {
            Description = "A filter as in GET /api/v1/events, name=value (event_types=auth.*, severities=critical, match=field:op:value…); repeatable. A filtered bundle has gaps by design",
        };
        var tenant = new Option<string>("--tenant") { Description = "Only this tenant's events (a filter too)" };
        var checkpoints = new Option<FileInfo[]>("--checkpoint")
        {
            Description = "A signed checkpoint to prove against, e.g. the cosigned one from GET /api/v1/ledger/checkpoint (the ledger keeps no cosignatures); repeatable. Default: the ledger's latest",
        };
        var key = new Option<string>("--key") { Description = "The ledger's note verifier key or a file holding it. Default: the key in the data directory" };
        var output = new Option<FileInfo>("--out") { Description = "The bundle file to write (JSON)", Required = true };
        var command = new Command("bundle", "Write an offline audit bundle: the events of a seq range as hashed, the signed checkpoints, an inclusion proof per event and consistency proofs, and the verifier key, in one JSON file for `verify --bundle`.")
        {
            from, to, filters, tenant, checkpoints, key, output,
        };
        ledger.AddTo(command);
        command.SetAction((result, cancellationToken) => RunAsync(
            ledger, result, result.GetValue(from), result.GetValue(to), result.GetValue(filters) ?? [], result.GetValue(tenant),
            result.GetValue(checkpoints) ?? [], result.GetValue(key), result.GetValue(output)!, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        LedgerLocation ledger, ParseResult result, long from, long? to, string[] filters, string? tenant, FileInfo[] checkpointFiles, string? key, FileInfo output, CancellationToken cancellationToken)
    {
        var errors = new List<ValidationError>();
        var pairs = filters.Select(f => f.Split('=', 2)).Select(p => new KeyValuePair<string, string?>(p[0], p.Length > 1 ? p[1] : null)).ToList();
        var filter = StreamFilter.FromQuery(pairs, errors);
        FilterValidator.Validate(filter, int.MaxValue, errors);
        if (errors.Count > 0)
        {
            await Console.Error.WriteLineAsync(string.Join(Environment.NewLine, errors.Select(e => $"--filter: {e}")));
            return VerifyCommand.Usage;
        }

        if (checkpointFiles.FirstOrDefault(f => !f.Exists) is { } missing)
        {
            await Console.Error.WriteLineAsync($"Checkpoint file {missing.FullName} does not exist.");
            return VerifyCommand.Usage;
        }

        if (await ledger.ResolveExistingAsync(result, cancellationToken) is not { } options
            || await VerifierKeys.ResolveAsync(key, options, cancellationToken) is not { } verifier)
        {
            return VerifyCommand.Usage;
        }

        var notes = new List<string>();
        foreach (var file in checkpointFiles)
        {
            notes.Add(await File.ReadAllTextAsync(file.FullName, cancellationToken));
        }

        var filterText = pairs.Count == 0 && tenant is null
            ? null
            : string.Join('&', pairs.Select(p => $"{p.Key}={p.Value}").Concat(tenant is null ? [] : [$"tenant_id={tenant}"]));
        var query = EventQuery.For(CompiledFilter.Compile(filter, TimeProvider.System), tenant);
        await using var store = LedgerStores.Create(options);
        var (bundle, error) = await AuditBundleWriter.CreateAsync(store, verifier, new BundleRequest(from, to, query, filterText, notes), TimeProvider.System, cancellationToken);
        if (bundle is null)
        {
            await Console.Error.WriteLineAsync(error);
            return VerifyCommand.Usage;
        }

        await using (var stream = output.Create())
        {
            await JsonSerializer.SerializeAsync(stream, bundle, AuditBundleJsonContext.Default.AuditBundle, cancellationToken);
        }

        await Console.Out.WriteLineAsync(
            $"{output.FullName}: {bundle.Events.Count} events of seqs {bundle.FromSeq}–{bundle.ToSeq}{(filterText is null ? "" : $" matching {filterText}")}, {bundle.Checkpoints.Count} checkpoint(s)");
        return VerifyCommand.Valid;
    }
}

/// <summary>Where the CLI gets the ledger's note verifier key: <c>--key</c> (a key or a file holding one), else the data directory's signing key.</summary>
internal static class VerifierKeys
{
    /// <summary>Reads <paramref name="key"/> (a key or a file of one); null with the reason on standard error when it is not a key.</summary>
    public static async Task<NoteVerifier?> ParseAsync(string key, CancellationToken cancellationToken)
    {
        var text = File.Exists(key) ? (await File.ReadAllTextAsync(key, cancellationToken)).Trim() : key.Trim();
        if (!NoteVerifier.TryParse(text, out var verifier, out var error))
        {
            await Console.Error.WriteLineAsync($"--key: {error}");
            return null;
        }

        return verifier;
    }

    /// <summary><paramref name="key"/> when given, else the data directory's signing key; null (saying why) when there is none.</summary>
    public static async Task<NoteVerifier?> ResolveAsync(string? key, LedgerOptions options, CancellationToken cancellationToken)
    {
        if (key is not null)
        {
            return await ParseAsync(key, cancellationToken);
        }

        if (!File.Exists(options.ResolvedSigningKeyPath))
        {
            await Console.Error.WriteLineAsync($"No signing key at {options.ResolvedSigningKeyPath}: give the ledger's verifier key with --key.");
            return null;
        }

        using var signer = SigningKeyFile.LoadOrCreate(options.ResolvedSigningKeyPath, options.Origin);
        return NoteVerifier.Parse(signer.VerifierKey);
    }
}
