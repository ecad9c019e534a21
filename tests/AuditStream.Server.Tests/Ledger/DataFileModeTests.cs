using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Ledger;

public sealed class DataFileModeTests
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_ledger_its_index_and_their_wal_and_shm_files_are_created_owner_only()
    {
        await using var server = await TestServer.StartAsync();
        await Json.PostEventsAsync(server.Producer(), Json.Event(1), Json.Event(2));
        var directory = server.DataDirectory;
        var ledger = "ledger.db";
        var index = Path.GetFileNameWithoutExtension(ledger) + "-index.db";

        // While the server runs, SQLite keeps each database's -wal and -shm beside it.
        string[] expected = [ledger, ledger + "-wal", ledger + "-shm", index, index + "-wal", index + "-shm"];
        var modes = Directory.GetFiles(directory).ToDictionary(f => Path.GetFileName(f), f => File.GetUnixFileMode(f));
        foreach (var name in expected)
        {
            Assert.True(modes.TryGetValue(name, out var mode), $"{name} not in {string.Join(", ", modes.Keys)}");
            Assert.True(mode == OwnerOnly, $"{name} is {mode}");
        }

        // The keys were owner-only already; nothing in the data directory is readable by others.
        Assert.All(modes, m => Assert.True((m.Value & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) == 0, $"{m.Key} is {m.Value}"));
    }
}
