using System.CommandLine;
using AuditStream.Ledger;
using AuditStream.Ledger.Privacy;

namespace AuditStream.Server.Cli;

/// <summary><c>auditstream keys rotate</c>: re-wraps every subject data key under a new (or the configured) master key; the ledger is untouched.</summary>
internal static class KeysCommand
{
    public static Command Create()
    {
        var ledger = new LedgerLocation();
        var rotate = new Command("rotate",
            "Re-wrap every data key under a new master key appended to the key file (or, with configured MasterKeys, under ActiveMasterKeyId). The ledger is not rewritten.");
        ledger.AddTo(rotate);
        rotate.SetAction((result, cancellationToken) => Task.FromResult(Rotate(ledger, result)));
        return new Command("keys", "Master keys of pii encryption.") { rotate };
    }

    private static int Rotate(LedgerLocation ledger, ParseResult result)
    {
        if (ledger.Resolve(result) is not { } options)
        {
            return 2;
        }

        try
        {
            string? created = null;
            if (options.Privacy.MasterKeys.Count == 0)
            {
                if (!File.Exists(options.ResolvedMasterKeyPath))
                {
                    Console.Error.WriteLine($"No master key file at {options.ResolvedMasterKeyPath}: nothing to rotate.");
                    return 2;
                }

                created = MasterKeys.AppendNewKey(options.ResolvedMasterKeyPath);
            }

            using var ring = LedgerStores.OpenSubjectKeys(options, create: false);
            var count = ring.Rotate();
            var active = MasterKeys.Load(options.Privacy, options.ResolvedMasterKeyPath, create: false).ActiveId;
            Console.WriteLine(created is null
                ? $"Re-wrapped {count} data key(s) under master key {active}."
                : $"Added master key {created} to {options.ResolvedMasterKeyPath} and re-wrapped {count} data key(s) under it. Older keys may be removed from the file once every instance has restarted.");
            return 0;
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }
}
