using System.Text.Json;
using AuditStream.Ledger.Privacy;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Privacy;

namespace AuditStream.Ledger.Tests.Privacy;

/// <summary>What every subject key store must do, run over SQLite and PostgreSQL.</summary>
public abstract class SubjectKeyStoreTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    protected string KeyFile => Path.Combine(_directory.Path, "master-keys.key");

    protected string DirectoryPath => _directory.Path;

    protected abstract ISubjectKeyStore OpenStore();

    private SubjectKeyRing OpenRing()
    {
        var store = OpenStore();
        store.Initialize();
        return new SubjectKeyRing(store, MasterKeys.Load(new PrivacyOptions(), KeyFile, create: true), TimeSpan.FromMinutes(1));
    }

    [Fact]
    public void A_subject_has_one_key_that_every_ring_on_the_store_finds()
    {
        using var ring = OpenRing();
        var key = ring.GetOrCreate("acme", "subject-1");
        Assert.Same(key, ring.GetOrCreate("acme", "subject-1"));
        Assert.NotEqual(key.Id, ring.GetOrCreate("globex", "subject-1").Id);

        using var other = OpenRing();
        var found = other.Find(key.Id);
        Assert.NotNull(found);
        Assert.Equal(key.Id, other.GetOrCreate("acme", "subject-1").Id);
        var envelope = PiiEnvelope.Seal(key, JsonDocument.Parse("""{"email":"a@example.com"}""").RootElement, Guid.Empty);
        Assert.Equal("""{"email":"a@example.com"}""", System.Text.Encoding.UTF8.GetString(PiiEnvelope.Open(found, envelope, "acme", "subject-1", Guid.Empty)));
    }

    [Fact]
    public void A_destroyed_key_is_never_found_again_and_the_subject_gets_a_new_one()
    {
        using var ring = OpenRing();
        var key = ring.GetOrCreate("acme", "subject-1");
        Assert.True(ring.Store.Destroy(key.Id, """{"erasure":1}"""));
        ring.Forget(key.Id, "acme", "subject-1");

        Assert.Null(ring.Find(key.Id));
        using var other = OpenRing();
        Assert.Null(other.Find(key.Id));
        Assert.False(other.Store.Destroy(key.Id, "{}"));
        var erasure = other.Store.FindLatestErasure("acme", "subject-1");
        Assert.Equal(key.Id, erasure!.KeyId);
        Assert.Null(erasure.ErasureSeq);
        other.Store.CompleteErasure(key.Id, 42);
        Assert.Equal(42, other.Store.FindLatestErasure("acme", "subject-1")!.ErasureSeq);
        Assert.NotEqual(key.Id, other.GetOrCreate("acme", "subject-1").Id);
    }

    [Fact]
    public void Rotation_rewraps_every_key_and_old_ciphertext_opens_with_only_the_new_master_key()
    {
        DataKey key;
        JsonElement envelope;
        using (var ring = OpenRing())
        {
            key = ring.GetOrCreate("acme", "subject-1");
            envelope = PiiEnvelope.Seal(key, JsonDocument.Parse("""{"email":"a@example.com"}""").RootElement, Guid.Empty);
        }

        var oldMaster = File.ReadAllLines(KeyFile).Single();
        var newMaster = MasterKeys.AppendNewKey(KeyFile);
        using (var ring = OpenRing())
        {
            Assert.Equal(1, ring.Rotate());
            Assert.Equal(0, ring.Rotate());
        }

        // Retire the old master key: only the new one remains, and the data key (hence the ledger's ciphertext) still opens.
        File.WriteAllLines(KeyFile, File.ReadAllLines(KeyFile).Where(l => l != oldMaster));
        using var rotated = OpenRing();
        Assert.Equal(newMaster, Assert.Single(rotated.Store.ReadLive()).MasterKeyId);
        var found = rotated.Find(key.Id)!;
        Assert.Equal("""{"email":"a@example.com"}""", System.Text.Encoding.UTF8.GetString(PiiEnvelope.Open(found, envelope, "acme", "subject-1", Guid.Empty)));
    }

    [Fact]
    public void A_key_wrapped_by_a_retired_master_key_says_which_key_is_missing()
    {
        using (var ring = OpenRing())
        {
            ring.GetOrCreate("acme", "subject-1");
        }

        File.WriteAllText(KeyFile, "");
        MasterKeys.AppendNewKey(KeyFile);
        using var retired = OpenRing();
        var error = Assert.Throws<InvalidOperationException>(() => retired.GetOrCreate("acme", "subject-1"));
        Assert.Contains("is not configured", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _directory.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class SqliteSubjectKeyStoreTests : SubjectKeyStoreTests
{
    private string DbPath => Path.Combine(DirectoryPath, "subject-keys.db");

    protected override ISubjectKeyStore OpenStore() => new SqliteSubjectKeyStore(DbPath);

    [Fact]
    public void The_key_file_is_owner_only_and_a_destroyed_key_leaves_no_bytes_in_the_file_or_its_wal()
    {
        var master = MasterKeys.Load(new PrivacyOptions(), KeyFile, create: true);
        using var store = new SqliteSubjectKeyStore(DbPath);
        store.Initialize();
        var wrapped = master.Wrap(new byte[32], "dk_x", "acme", "subject-1");
        Assert.True(store.TryInsert(new StoredSubjectKey("dk_x", "acme", "subject-1", master.ActiveId, wrapped), 1));
        Assert.True(Contains(wrapped));

        Assert.True(store.Destroy("dk_x", "{}"));
        Assert.False(Contains(wrapped));
        if (!OperatingSystem.IsWindows())
        {
            foreach (var file in new[] { DbPath, DbPath + "-wal", DbPath + "-shm" })
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }

            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(KeyFile));
        }
    }

    private bool Contains(byte[] needle) =>
        new[] { DbPath, DbPath + "-wal" }.Where(File.Exists).Any(f => Bytes(f).AsSpan().IndexOf(needle) >= 0);

    private static byte[] Bytes(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }
}

[Collection(OnPostgres.Name)]
public sealed class PostgresSubjectKeyStoreTests(PostgresServer server) : SubjectKeyStoreTests, IAsyncLifetime
{
    private string? _connectionString;

    public async Task InitializeAsync() => _connectionString = await server.CreateLedgerAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    protected override ISubjectKeyStore OpenStore() => new PostgresSubjectKeyStore(_connectionString!);
}
