using System.Net;
using System.Security.Cryptography;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Ledger;

/// <summary>The tree served as C2SP tlog-tiles checks out against the signed checkpoint with nothing but SHA-256 (issue 18, item 1).</summary>
public sealed class TileTests : IAsyncLifetime
{
    private const int Events = 700;
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        using var producer = _server.Producer();
        for (var i = 0; i < Events; i += 100)
        {
            await Json.PostEventsAsync(producer, [.. Enumerable.Range(i, 100).Select(n => Json.Event(n))]);
        }
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Leaf_tiles_without_a_token_rebuild_the_signed_checkpoints_root()
    {
        using var anonymous = _server.Client();

        // The classic endpoint signs one for the current size on demand; the tlog one serves the latest signed.
        var signed = await anonymous.GetStringAsync("api/v1/ledger/checkpoint");
        var note = await anonymous.GetStringAsync("api/v1/ledger/tlog/checkpoint");
        Assert.Equal(signed, note);
        var lines = note.Split('\n');
        Assert.Equal(Events, long.Parse(lines[1], System.Globalization.CultureInfo.InvariantCulture));
        var root = Convert.FromBase64String(lines[2]);

        // 700 leaves: two full level-0 tiles and a partial one of 188.
        var leaves = new List<byte[]>();
        foreach (var path in new[] { "0/000", "0/001", "0/002.p/188" })
        {
            using var response = await anonymous.GetAsync("api/v1/ledger/tlog/tile/" + path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/octet-stream", response.Content.Headers.ContentType!.MediaType);
            Assert.Contains("immutable", response.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            leaves.AddRange(bytes.Chunk(32));
        }

        Assert.Equal(Events, leaves.Count);
        Assert.Equal(root, Mth(leaves));

        // Level 1 holds the roots of complete 256-leaf subtrees: 2 of them so far.
        var level1 = await anonymous.GetByteArrayAsync("api/v1/ledger/tlog/tile/1/000.p/2");
        Assert.Equal([.. Mth(leaves[..256]), .. Mth(leaves[256..512])], level1);
    }

    [Fact]
    public async Task Entry_bundles_hold_each_events_hash_and_no_content()
    {
        using var anonymous = _server.Client();
        var bundle = await anonymous.GetByteArrayAsync("api/v1/ledger/tlog/tile/entries/001");
        var leafTile = await anonymous.GetByteArrayAsync("api/v1/ledger/tlog/tile/0/001");
        Assert.Equal(256 * 34, bundle.Length);
        using var reader = _server.Reader();
        for (var i = 0; i < 256; i++)
        {
            var entry = bundle.AsSpan(i * 34);
            Assert.Equal(32, (entry[0] << 8) | entry[1]);
            var hash = entry.Slice(2, 32).ToArray();
            Assert.Equal(leafTile.AsSpan(i * 32, 32).ToArray(), SHA256.HashData([0, .. hash]));
            if (i % 64 == 0)
            {
                var stored = await Json.ReadAsync(await reader.GetAsync($"api/v1/events/{256 + i + 1}"));
                Assert.Equal(stored["hash"]!.GetValue<string>(), Convert.ToHexStringLower(hash));
            }
        }
    }

    [Theory]
    [InlineData("0/003", HttpStatusCode.NotFound)]
    [InlineData("0/002.p/189", HttpStatusCode.NotFound)]
    [InlineData("1/000", HttpStatusCode.NotFound)]
    [InlineData("63/x009/000", HttpStatusCode.NotFound)]
    [InlineData("0/2", HttpStatusCode.BadRequest)]
    [InlineData("0/002.p/0", HttpStatusCode.BadRequest)]
    [InlineData("x/000", HttpStatusCode.BadRequest)]
    public async Task Tiles_the_tree_does_not_hold_are_404_and_malformed_paths_400(string path, HttpStatusCode status)
    {
        using var anonymous = _server.Client();
        using var response = await anonymous.GetAsync("api/v1/ledger/tlog/tile/" + path);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    /// <summary>RFC 9162 §2.1.1 MTH over leaf hashes, written out here independently of the server's Merkle code.</summary>
    private static byte[] Mth(IReadOnlyList<byte[]> leafHashes)
    {
        if (leafHashes.Count == 1)
        {
            return leafHashes[0];
        }

        var k = 1;
        while (k * 2 < leafHashes.Count)
        {
            k *= 2;
        }

        return SHA256.HashData([1, .. Mth([.. leafHashes.Take(k)]), .. Mth([.. leafHashes.Skip(k)])]);
    }
}
