using AuditStream.Ledger.Privacy;
using AuditStream.Ledger.Tests.Support;

namespace AuditStream.Ledger.Tests.Privacy;

/// <summary>The ring's cache of unwrapped data keys: an erasure that runs while a key is being read is never undone by the cache.</summary>
public sealed class SubjectKeyRingTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private string DbPath => Path.Combine(_directory.Path, "subject-keys.db");

    private MasterKeys Master => MasterKeys.Load(new PrivacyOptions(), Path.Combine(_directory.Path, "master-keys.key"), create: true);

    [Fact]
    public void A_key_erased_while_find_was_reading_it_is_not_cached_and_is_never_found_again()
    {
        var key = CreateKey("subject-1");
        var store = new ErasingStore(Open());
        using var ring = new SubjectKeyRing(store, Master, TimeSpan.FromHours(1));
        store.AfterRead = () => Erase(store, ring, key.Id, "subject-1");

        Assert.Null(ring.Find(key.Id));
        Assert.Null(ring.Find(key.Id));
        Assert.Equal(1, store.Erasures);
    }

    [Fact]
    public void A_subject_erased_while_its_key_was_being_read_for_sealing_gets_a_new_key()
    {
        var key = CreateKey("subject-1");
        var store = new ErasingStore(Open());
        using var ring = new SubjectKeyRing(store, Master, TimeSpan.FromHours(1));
        store.AfterRead = () => Erase(store, ring, key.Id, "subject-1");

        var sealing = ring.GetOrCreate("acme", "subject-1");

        Assert.NotEqual(key.Id, sealing.Id);
        Assert.Same(sealing, ring.GetOrCreate("acme", "subject-1"));
        Assert.Null(ring.Find(key.Id));
    }

    [Fact]
    public void A_cached_key_is_gone_from_the_cache_the_moment_its_erasure_is_forgotten()
    {
        using var ring = new SubjectKeyRing(Open(), Master, TimeSpan.FromHours(1));
        var key = ring.GetOrCreate("acme", "subject-1");
        Assert.Same(key, ring.Find(key.Id));
        var before = ring.Generation;

        Assert.True(ring.Store.Destroy(key.Id, "{}"));
        ring.Forget(key.Id, "acme", "subject-1");

        Assert.True(ring.Generation > before);
        Assert.Null(ring.Find(key.Id));
        Assert.NotEqual(key.Id, ring.GetOrCreate("acme", "subject-1").Id);
    }

    public void Dispose() => _directory.Dispose();

    private SqliteSubjectKeyStore Open()
    {
        var store = new SqliteSubjectKeyStore(DbPath);
        store.Initialize();
        return store;
    }

    private AuditStream.Privacy.DataKey CreateKey(string subject)
    {
        using var creator = new SubjectKeyRing(Open(), Master, TimeSpan.FromHours(1));
        return creator.GetOrCreate("acme", subject);
    }

    private static void Erase(ErasingStore store, SubjectKeyRing ring, string keyId, string subject)
    {
        store.AfterRead = null;
        Assert.True(store.Destroy(keyId, "{}"));
        ring.Forget(keyId, "acme", subject);
        store.Erasures++;
    }

    /// <summary>A store that runs <see cref="AfterRead"/> once a read has returned a live key, before the ring caches it.</summary>
    private sealed class ErasingStore(ISubjectKeyStore inner) : ISubjectKeyStore
    {
        public Action? AfterRead { get; set; }

        public int Erasures { get; set; }

        public void Initialize() => inner.Initialize();

        public StoredSubjectKey? FindLive(string tenantId, string subjectId) => Then(inner.FindLive(tenantId, subjectId));

        public StoredSubjectKey? Find(string keyId) => Then(inner.Find(keyId));

        public bool TryInsert(StoredSubjectKey key, long createdMicros) => inner.TryInsert(key, createdMicros);

        public IReadOnlyList<StoredSubjectKey> ReadLive() => inner.ReadLive();

        public bool Rewrap(string keyId, string masterKeyId, byte[] wrapped) => inner.Rewrap(keyId, masterKeyId, wrapped);

        public bool Destroy(string keyId, string erasure) => inner.Destroy(keyId, erasure);

        public void CompleteErasure(string keyId, long erasureSeq) => inner.CompleteErasure(keyId, erasureSeq);

        public StoredErasure? FindLatestErasure(string tenantId, string subjectId) => inner.FindLatestErasure(tenantId, subjectId);

        public void Dispose() => inner.Dispose();

        private StoredSubjectKey? Then(StoredSubjectKey? found)
        {
            if (found is not null)
            {
                AfterRead?.Invoke();
            }

            return found;
        }
    }
}
