using System.CommandLine;
using AuditStream.Checkpoints;
using AuditStream.Server.Witness;

namespace AuditStream.Server.Cli;

/// <summary><c>auditstream witness</c>: a C2SP tlog-witness that cosigns the checkpoints of the logs it is given keys for.</summary>
internal static class WitnessCommand
{
    public static Command Create()
    {
        var listen = new Option<string>("--listen") { Description = "URL to listen on", DefaultValueFactory = _ => "http://127.0.0.1:8480" };
        var logKeys = new Option<string[]>("--log-key")
        {
            Description = "A log's note verifier key (name+hash+base64) or a file holding it; the key name is the log's origin. Repeatable",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var name = new Option<string>("--name") { Description = "The witness's cosigner name (a schema-less URL)", DefaultValueFactory = _ => "witness.localhost/auditstream" };
        var key = new Option<string>("--key") { Description = "The witness's Ed25519 signer key file, created (mode 0600) when absent", DefaultValueFactory = _ => "witness.key" };
        var state = new Option<string>("--state") { Description = "File keeping the last cosigned size and root per log", DefaultValueFactory = _ => "witness-state.json" };
        var command = new Command("witness", "Run a C2SP tlog-witness (POST /add-checkpoint): verifies each log checkpoint's signature and its consistency with the last one it cosigned, refuses inconsistent ones, and returns an Ed25519 cosignature/v1. Prints its cosigner key.")
        {
            listen, logKeys, name, key, state,
        };
        command.SetAction((result, cancellationToken) => RunAsync(
            result.GetValue(listen)!, result.GetValue(logKeys)!, result.GetValue(name)!, result.GetValue(key)!, result.GetValue(state)!, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string listen, string[] logKeyArguments, string name, string keyPath, string statePath, CancellationToken cancellationToken)
    {
        var logKeys = new List<NoteVerifier>();
        foreach (var argument in logKeyArguments)
        {
            var text = File.Exists(argument) ? (await File.ReadAllTextAsync(argument, cancellationToken)).Trim() : argument;
            if (!NoteVerifier.TryParse(text, out var verifier, out var error))
            {
                await Console.Error.WriteLineAsync($"--log-key {argument}: {error}");
                return VerifyCommand.Usage;
            }

            logKeys.Add(verifier);
        }

        if (name.Length == 0 || name.Any(c => c is ' ' or '+' || char.IsControl(c)))
        {
            await Console.Error.WriteLineAsync("--name must be non-empty with no spaces, '+' or control characters");
            return VerifyCommand.Usage;
        }

        using var signer = SigningKeyFile.LoadOrCreate(keyPath, name);
        var witness = new WitnessService(signer, logKeys, WitnessState.Load(statePath), TimeProvider.System);
        var (app, address) = await WitnessHost.StartAsync(witness, listen, cancellationToken);
        await using (app)
        {
            Console.WriteLine($"witness listening on {address}");
            Console.WriteLine($"cosigner key: {witness.VerifierKey}");
            await app.WaitForShutdownAsync(cancellationToken);
        }

        return 0;
    }
}
