using System.Text;
using System.Text.Json.Nodes;
using AuditStream.Canonical;
using AuditStream.Checkpoints;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Cli;

/// <summary>
/// <c>auditstream bundle</c> and <c>verify --bundle</c> as processes over a real SQLite ledger written by a real server:
/// a round trip verifies with the pinned key and no server, and each kind of tampering is named at its seq.
/// </summary>
public sealed class BundleCommandTests : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "auditstream-bundle-tests", Guid.NewGuid().ToString("N"));
    private readonly NoteSigner _witness = NoteSigner.Generate("witness.test/w1");
    private string _key = null!;

    private string Early => Path.Combine(_data, "early.checkpoint");

    private string Late => Path.Combine(_data, "late.checkpoint");

    // acme: seqs 1–20 (every fifth critical), beta: 21, acme: 22–41; checkpoints saved at sizes 20 and 41, the second cosigned.
    public async Task InitializeAsync()
    {
        await using var server = await TestServer.StartAsync(dataDirectory: _data);
        using var acme = server.Producer();
        await Json.PostEventsAsync(acme, [.. Enumerable.Range(0, 20).Select(i => Json.Event(i, severity: i % 5 == 0 ? "critical" : "info"))]);
        await File.WriteAllTextAsync(Early, await server.Client().GetStringAsync("api/v1/ledger/checkpoint"));
        await Json.PostEventsAsync(server.Producer("beta"), Json.Event(100));
        await Json.PostEventsAsync(acme, [.. Enumerable.Range(20, 20).Select(i => Json.Event(i, severity: i % 5 == 0 ? "critical" : "info"))]);
        var late = await server.Client().GetStringAsync("api/v1/ledger/checkpoint");
        var cosignature = Cosignature.Sign(_witness, SignedNote.Parse(late).Text, 1_700_000_000);
        await File.WriteAllTextAsync(Late, $"{late}{cosignature}\n");
        _key = (await server.Client().GetStringAsync("api/v1/ledger/public-key")).Trim();
    }

    public Task DisposeAsync()
    {
        _witness.Dispose();
        Directory.Delete(_data, recursive: true);
        return Task.CompletedTask;
    }

    private async Task<string> BundleAsync(params string[] args)
    {
        var file = Path.Combine(_data, $"{Guid.NewGuid():N}.bundle.json");
        var made = await Support.Cli.RunAsync(null, ["bundle", "--data", _data, "--out", file, .. args]);
        Assert.True(made.ExitCode == 0, made.Stdout + made.Stderr);
        return file;
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> VerifyAsync(string file, params string[] args) =>
        Support.Cli.RunAsync(null, ["verify", "--bundle", file, "--key", _key, .. args]);

    private static async Task<string> TamperAsync(string file, Action<JsonNode> change)
    {
        var bundle = JsonNode.Parse(await File.ReadAllTextAsync(file))!;
        change(bundle);
        await File.WriteAllTextAsync(file, bundle.ToJsonString());
        return file;
    }

    private static JsonNode EventAt(JsonNode bundle, long seq) => bundle["events"]!.AsArray().Single(e => e!["seq"]!.GetValue<long>() == seq)!;

    [Fact]
    public async Task A_bundle_round_trips_with_the_pinned_key_two_consistent_checkpoints_and_the_witness_policy()
    {
        var file = await BundleAsync("--checkpoint", Early, "--checkpoint", Late);
        var valid = await VerifyAsync(file, "--witness-key", Cosignature.VerifierKey(_witness));
        Assert.True(valid.ExitCode == 0, valid.Stdout + valid.Stderr);
        Assert.StartsWith("valid: 41 events, 2 checkpoints", valid.Stdout, StringComparison.Ordinal);
        Assert.Contains("complete (every seq present)", valid.Stdout, StringComparison.Ordinal);
        Assert.Contains("pinned with --key", valid.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("WARNING", valid.Stderr, StringComparison.Ordinal);

        // A witness that did not cosign fails the policy; no --key passes on the bundle's own key, loudly.
        using var stranger = NoteSigner.Generate("witness.test/w2");
        var unwitnessed = await VerifyAsync(file, "--witness-key", Cosignature.VerifierKey(stranger));
        Assert.Equal(1, unwitnessed.ExitCode);
        Assert.Contains("witness policy", unwitnessed.Stdout, StringComparison.Ordinal);
        var unpinned = await Support.Cli.RunAsync(null, "verify", "--bundle", file);
        Assert.Equal(0, unpinned.ExitCode);
        Assert.Contains("WARNING: no --key given", unpinned.Stderr, StringComparison.Ordinal);
        Assert.Contains("NOT pinned", unpinned.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_filtered_bundle_verifies_with_its_gaps_said_to_be_expected()
    {
        var file = await BundleAsync("--from", "3", "--to", "35", "--filter", "severities=critical", "--tenant", "acme");
        Assert.Equal(6, JsonNode.Parse(await File.ReadAllTextAsync(file))!["events"]!.AsArray().Count);
        var valid = await VerifyAsync(file);
        Assert.True(valid.ExitCode == 0, valid.Stdout + valid.Stderr);
        Assert.Contains("gaps are expected", valid.Stdout, StringComparison.Ordinal);

        var bad = await Support.Cli.RunAsync(null, "bundle", "--data", _data, "--out", Path.Combine(_data, "x.json"), "--filter", "severities=loud");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--filter", bad.Stderr, StringComparison.Ordinal);
        var beyond = await Support.Cli.RunAsync(null, "bundle", "--data", _data, "--out", Path.Combine(_data, "x.json"), "--checkpoint", Early, "--to", "30");
        Assert.Equal(2, beyond.ExitCode);
        Assert.Contains("no signed checkpoint covers seq 30", beyond.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tampered_event_body_is_named_at_its_seq_even_when_its_hash_is_recomputed()
    {
        var file = await TamperAsync(await BundleAsync(), b => EventAt(b, 17)["body"] = EventAt(b, 17)["body"]!.GetValue<string>().Replace("\"read\"", "\"wrote\"", StringComparison.Ordinal));
        var modified = await VerifyAsync(file);
        Assert.Equal(1, modified.ExitCode);
        Assert.Contains("modified at seq 17: seq 17: the body does not hash", modified.Stdout, StringComparison.Ordinal);

        // Rehashing the body leaves the inclusion proof (and the next event's prev_hash) to give it away.
        file = await TamperAsync(file, b =>
        {
            var e = EventAt(b, 17);
            var hash = new byte[32];
            ChainStep.ComputeHash(Convert.FromHexString(e["prev_hash"]!.GetValue<string>()), Encoding.UTF8.GetBytes(e["body"]!.GetValue<string>()), hash);
            e["hash"] = Convert.ToHexStringLower(hash);
        });
        var rehashed = await VerifyAsync(file);
        Assert.Equal(1, rehashed.ExitCode);
        Assert.Contains("seq 17: its inclusion proof does not lead to the root", rehashed.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tampered_proof_hash_or_a_removed_event_is_named_at_its_seq()
    {
        var proof = await TamperAsync(await BundleAsync(), b =>
        {
            var path = EventAt(b, 23)["proof"]!.AsArray();
            var hash = path[0]!.GetValue<string>();
            path[0] = (hash[0] == '0' ? "1" : "0") + hash[1..];
        });
        var result = await VerifyAsync(proof);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("modified at seq 23: seq 23: its inclusion proof", result.Stdout, StringComparison.Ordinal);

        var removed = await TamperAsync(await BundleAsync(), b => b["events"]!.AsArray().Remove(EventAt(b, 42 - 10)));
        var missing = await VerifyAsync(removed);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("missing at seq 32: seq 32: missing from an unfiltered bundle", missing.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tampered_checkpoint_signature_a_swapped_key_or_a_broken_consistency_proof_fails_against_the_pinned_key()
    {
        var signature = await TamperAsync(await BundleAsync(), b =>
        {
            var note = b["checkpoints"]![0]!.GetValue<string>();
            var at = note.LastIndexOf(' ') + 20;
            b["checkpoints"]![0] = note[..at] + (note[at] == 'A' ? 'B' : 'A') + note[(at + 1)..];
        });
        var bad = await VerifyAsync(signature);
        Assert.Equal(1, bad.ExitCode);
        Assert.StartsWith("badsignature: checkpoint 1 of 1", bad.Stdout, StringComparison.Ordinal);

        // Whoever rewrites the bundle can re-sign it with a key of the same name and put that key in the bundle:
        // only the pinned key tells.
        var origin = NoteVerifier.Parse(_key).Name;
        using var impostor = NoteSigner.Generate(origin);
        var swapped = await TamperAsync(await BundleAsync(), b =>
        {
            b["verifier_key"] = impostor.VerifierKey;
            b["checkpoints"]![0] = SignedNote.Sign(SignedNote.Parse(b["checkpoints"]![0]!.GetValue<string>()).Text, impostor);
        });
        var pinned = await VerifyAsync(swapped);
        Assert.Equal(1, pinned.ExitCode);
        Assert.StartsWith("badsignature:", pinned.Stdout, StringComparison.Ordinal);
        var unpinned = await Support.Cli.RunAsync(null, "verify", "--bundle", swapped);
        Assert.Equal(0, unpinned.ExitCode);
        Assert.Contains("WARNING", unpinned.Stderr, StringComparison.Ordinal);

        // Two checkpoints whose consistency proof is broken are two histories.
        var forked = await TamperAsync(await BundleAsync("--checkpoint", Early, "--checkpoint", Late), b =>
        {
            var path = b["consistency"]![0]!["hashes"]!.AsArray();
            var hash = path[^1]!.GetValue<string>();
            path[^1] = (hash[0] == '0' ? "1" : "0") + hash[1..];
        });
        var rewritten = await VerifyAsync(forked);
        Assert.Equal(1, rewritten.ExitCode);
        Assert.StartsWith("rewritten: the checkpoints of sizes 20 and 41 are not proved consistent", rewritten.Stdout, StringComparison.Ordinal);

        Assert.Equal(2, (await Support.Cli.RunAsync(null, "verify", "--bundle", Path.Combine(_data, "none.json"))).ExitCode);
        Assert.Equal(2, (await Support.Cli.RunAsync(null, "verify", "--bundle", swapped, "--data", _data)).ExitCode);
    }
}
