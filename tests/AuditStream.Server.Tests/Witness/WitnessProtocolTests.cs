using System.Net;
using System.Security.Cryptography;
using System.Text;
using AuditStream.Checkpoints;
using AuditStream.Merkle;
using AuditStream.Server.Witness;
using Microsoft.AspNetCore.Builder;

namespace AuditStream.Server.Tests.Witness;

/// <summary>
/// c2sp.org/tlog-witness against <c>auditstream witness</c> on a loopback port; trees, proofs and requests are built here
/// from RFC 9162 and the spec, not from the server's code.
/// </summary>
public sealed class WitnessProtocolTests : IAsyncLifetime, IDisposable
{
    private const string Origin = "auditstream.test/log";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "auditstream-witness-tests", Guid.NewGuid().ToString("N"));
    private readonly NoteSigner _log = NoteSigner.Generate(Origin);
    private readonly NoteSigner _witnessKey = NoteSigner.Generate("witness.test/w1");
    private readonly HttpClient _http = new();
    private WebApplication? _app;
    private Uri _address = null!;

    private string StatePath => Path.Combine(_dir, "state.json");

    public async Task InitializeAsync() => await StartWitnessAsync();

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _log.Dispose();
        _witnessKey.Dispose();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_cosigned_checkpoint_verifies_with_both_the_log_key_and_the_witness_key_and_the_head_survives_a_restart()
    {
        var leaves = Leaves("a", 9);
        var first = await AddAsync(0, [], Sign(leaves, 5));
        Assert.Equal(HttpStatusCode.OK, first.Status);

        var cosigned = Sign(leaves, 5) + first.Body;
        var note = SignedNote.Parse(cosigned);
        Assert.True(new CheckpointVerifier(_log.Verifier).Open(cosigned).Succeeded);
        var witness = CosignatureVerifier.Parse(Cosignature.VerifierKey(_witnessKey));
        var cosignature = Assert.Single(note.Signatures, s => s.KeyName == "witness.test/w1");
        Assert.True(witness.Verify(note.Text, cosignature, out var timestamp));
        Assert.InRange((long)timestamp, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 60);
        Assert.False(witness.Verify(note.Text.Replace("\n5\n", "\n6\n", StringComparison.Ordinal), cosignature, out _));

        var grown = await AddAsync(5, ConsistencyProof(leaves, 5, 9), Sign(leaves, 9));
        Assert.Equal(HttpStatusCode.OK, grown.Status);

        await _app!.DisposeAsync();
        await StartWitnessAsync();
        var stale = await AddAsync(0, [], Sign(leaves, 9));
        Assert.Equal(HttpStatusCode.Conflict, stale.Status);
        Assert.Equal("text/x.tlog.size", stale.ContentType);
        Assert.Equal("9\n", stale.Body);
    }

    [Fact]
    public async Task A_split_view_at_the_same_size_is_refused_and_so_is_a_fork_that_grows_from_it()
    {
        var honest = Leaves("a", 9);
        var forked = Leaves("b", 9);
        Assert.Equal(HttpStatusCode.OK, (await AddAsync(0, [], Sign(honest, 5))).Status);

        var sameSize = await AddAsync(5, [], Sign(forked, 5));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, sameSize.Status);
        Assert.Contains("split view", sameSize.Body, StringComparison.Ordinal);

        var fromZero = await AddAsync(0, [], Sign(forked, 5));
        Assert.Equal(HttpStatusCode.Conflict, fromZero.Status);
        Assert.Equal("5\n", fromZero.Body);

        var grownFork = await AddAsync(5, ConsistencyProof(forked, 5, 9), Sign(forked, 9));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, grownFork.Status);

        // The refusals changed nothing: the honest log still continues.
        Assert.Equal(HttpStatusCode.OK, (await AddAsync(5, ConsistencyProof(honest, 5, 9), Sign(honest, 9))).Status);
    }

    [Fact]
    public async Task Unknown_logs_bad_signatures_and_malformed_requests_get_the_spec_status_codes()
    {
        var leaves = Leaves("a", 5);
        using var stranger = NoteSigner.Generate("other.test/log");
        using var impostor = NoteSigner.Generate(Origin);
        var checkpoint = new Checkpoint(Origin, 5, Root(leaves, 0, 5)).ToNoteText();

        Assert.Equal(HttpStatusCode.NotFound, (await AddAsync(0, [], stranger.Sign(new Checkpoint("other.test/log", 5, Root(leaves, 0, 5)).ToNoteText()))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await AddAsync(0, [], impostor.Sign(checkpoint))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await AddAsync(6, [], Sign(leaves, 5))).Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await AddAsync(0, [], _log.Sign(new Checkpoint(Origin, 0, new byte[32]).ToNoteText()))).Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await AddAsync(0, [new byte[32]], Sign(leaves, 5))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync("old 007\n\n" + Sign(leaves, 5))).Status);
    }

    private async Task StartWitnessAsync()
    {
        var service = new WitnessService(_witnessKey, [_log.Verifier], WitnessState.Load(StatePath), TimeProvider.System);
        (_app, _address) = await WitnessHost.StartAsync(service, "http://127.0.0.1:0", CancellationToken.None);
    }

    private Task<(HttpStatusCode Status, string? ContentType, string Body)> AddAsync(long oldSize, IEnumerable<byte[]> proof, string checkpoint)
    {
        var body = new StringBuilder($"old {oldSize}\n");
        foreach (var hash in proof)
        {
            body.Append(Convert.ToBase64String(hash)).Append('\n');
        }

        return PostAsync(body.Append('\n').Append(checkpoint).ToString());
    }

    private async Task<(HttpStatusCode Status, string? ContentType, string Body)> PostAsync(string body)
    {
        using var response = await _http.PostAsync(new Uri(_address, "add-checkpoint"), new StringContent(body, Encoding.UTF8, "text/plain"));
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
    }

    private string Sign(byte[][] leaves, int size) => _log.Sign(new Checkpoint(Origin, size, Root(leaves, 0, size)).ToNoteText());

    private static byte[][] Leaves(string prefix, int count) =>
        [.. Enumerable.Range(0, count).Select(i => SHA256.HashData(Encoding.UTF8.GetBytes($"{prefix}{i}")))];

    // RFC 9162 §2.1.1: MTH of D[start:end].
    private static byte[] Root(byte[][] leaves, int start, int end)
    {
        if (end - start == 1)
        {
            return SHA256.HashData([0, .. leaves[start]]);
        }

        var k = 1;
        while (k * 2 < end - start)
        {
            k *= 2;
        }

        return SHA256.HashData([1, .. Root(leaves, start, start + k), .. Root(leaves, start + k, end)]);
    }

    // RFC 9162 §2.1.4.1: PROOF(m, D[n]) = SUBPROOF(m, D[0:n], true).
    private static List<byte[]> ConsistencyProof(byte[][] leaves, int m, int n) => SubProof(leaves, m, 0, n, complete: true);

    private static List<byte[]> SubProof(byte[][] leaves, int m, int start, int end, bool complete)
    {
        var n = end - start;
        if (m == n)
        {
            return complete ? [] : [Root(leaves, start, end)];
        }

        var k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }

        if (m <= k)
        {
            return [.. SubProof(leaves, m, start, start + k, complete), Root(leaves, start + k, end)];
        }

        return [.. SubProof(leaves, m - k, start + k, end, complete: false), Root(leaves, start, start + k)];
    }
}
