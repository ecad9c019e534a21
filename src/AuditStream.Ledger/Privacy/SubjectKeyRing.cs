using System.Collections.Concurrent;
using System.Security.Cryptography;
using AuditStream.Events;
using AuditStream.Privacy;

namespace AuditStream.Ledger.Privacy;

/// <summary>
/// The subject keys of a ledger: data keys created on first use, stored wrapped by the active master key, kept unwrapped
/// in memory for <see cref="PrivacyOptions.DataKeyCacheTime"/>; a destroyed key is forgotten at once and never found again.
/// </summary>
public sealed class SubjectKeyRing : ISubjectKeys, IDisposable
{
    private const int MaxCached = 100_000;
    private readonly ISubjectKeyStore _store;
    private readonly MasterKeys _master;
    private readonly TimeSpan _cacheTime;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Cached> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string, string), Cached> _bySubject = new();
    private long _generation;

    /// <summary>Creates the ring over an initialized <paramref name="store"/>.</summary>
    public SubjectKeyRing(ISubjectKeyStore store, MasterKeys master, TimeSpan cacheTime, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(master);
        _store = store;
        _master = master;
        _cacheTime = cacheTime;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The key store (erasure, tests).</summary>
    public ISubjectKeyStore Store => _store;

    /// <inheritdoc />
    public long Generation => Interlocked.Read(ref _generation);

    /// <inheritdoc />
    public DataKey GetOrCreate(string tenantId, string subjectId)
    {
        ArgumentNullException.ThrowIfNull(tenantId);
        ArgumentException.ThrowIfNullOrEmpty(subjectId);
        var now = _time.GetTimestamp();
        if (_bySubject.TryGetValue((tenantId, subjectId), out var cached) && cached.IsFresh(now, _time, _cacheTime) && cached.Key is { } hit)
        {
            return hit;
        }

        while (true)
        {
            // An erasure between the store read and Remember must not leave the destroyed key cached: retry instead.
            var generation = Generation;
            if (_store.FindLive(tenantId, subjectId) is { } stored)
            {
                if (Remember(Unwrap(stored), now, generation) is { } live)
                {
                    return live;
                }

                continue;
            }

            var id = DataKey.NewId();
            var secret = RandomNumberGenerator.GetBytes(DataKey.KeyLength);
            var wrapped = _master.Wrap(secret, id, tenantId, subjectId);
            if (_store.TryInsert(new StoredSubjectKey(id, tenantId, subjectId, _master.ActiveId, wrapped), Timestamps.ToMicros(_time.GetUtcNow())))
            {
                var key = new DataKey(id, tenantId, subjectId, secret);
                CryptographicOperations.ZeroMemory(secret);
                if (Remember(key, now, generation) is { } created)
                {
                    return created;
                }
            }

            // Another caller created the subject's key first: use that one.
        }
    }

    /// <inheritdoc />
    public DataKey? Find(string keyId)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        var now = _time.GetTimestamp();
        if (_byId.TryGetValue(keyId, out var cached) && (cached.Key is null || cached.IsFresh(now, _time, _cacheTime)))
        {
            return cached.Key;
        }

        while (true)
        {
            var generation = Generation;
            if (_store.Find(keyId) is not { } stored)
            {
                // Destroyed keys never come back, and an envelope is only written after its key is stored: remember the absence.
                Trim();
                _byId[keyId] = new Cached(null, now);
                return null;
            }

            // Erased while it was being read: read again (the store now says it is gone).
            if (Remember(Unwrap(stored), now, generation) is { } key)
            {
                return key;
            }
        }
    }

    /// <summary>Forgets the key <paramref name="keyId"/> of the subject (after its erasure) and marks every cached view stale.</summary>
    public void Forget(string keyId, string tenantId, string subjectId)
    {
        // Before evicting: a reader that cached the key after its store read sees the change and takes it out again.
        Interlocked.Increment(ref _generation);
        _byId[keyId] = new Cached(null, _time.GetTimestamp());
        _bySubject.TryRemove((tenantId, subjectId), out _);

        // After evicting: views cached from the key (published frames) are stale from here on.
        Interlocked.Increment(ref _generation);
    }

    /// <summary>Re-wraps every live data key under the active master key (the ledger is untouched); returns how many were re-wrapped.</summary>
    public int Rotate()
    {
        var count = 0;
        foreach (var stored in _store.ReadLive())
        {
            if (stored.MasterKeyId == _master.ActiveId)
            {
                continue;
            }

            var secret = _master.Unwrap(stored.MasterKeyId, stored.Wrapped, stored.Id, stored.TenantId, stored.SubjectId);
            var wrapped = _master.Wrap(secret, stored.Id, stored.TenantId, stored.SubjectId);
            CryptographicOperations.ZeroMemory(secret);
            if (_store.Rewrap(stored.Id, _master.ActiveId, wrapped))
            {
                count++;
            }
        }

        return count;
    }

    /// <inheritdoc />
    public void Dispose() => _store.Dispose();

    private DataKey Unwrap(StoredSubjectKey stored)
    {
        var secret = _master.Unwrap(stored.MasterKeyId, stored.Wrapped, stored.Id, stored.TenantId, stored.SubjectId);
        var key = new DataKey(stored.Id, stored.TenantId, stored.SubjectId, secret);
        CryptographicOperations.ZeroMemory(secret);
        return key;
    }

    // Caches a key read from the store at generation; null (nothing cached) when an erasure was forgotten since then,
    // so a key destroyed during the read never outlives its erasure here. Forget bumps the generation after it evicts.
    private DataKey? Remember(DataKey key, long now, long generation)
    {
        Trim();
        var entry = new Cached(key, now);
        _byId[key.Id] = entry;
        _bySubject[(key.TenantId, key.SubjectId)] = entry;
        if (Generation == generation)
        {
            return key;
        }

        // An erasure ran meanwhile (it may have been this key's): undo, unless another reader replaced the entry.
        _byId.TryRemove(new KeyValuePair<string, Cached>(key.Id, entry));
        _bySubject.TryRemove(new KeyValuePair<(string, string), Cached>((key.TenantId, key.SubjectId), entry));
        return null;
    }

    private void Trim()
    {
        // Crude but bounded: a full cache starts over (keys are read again from the store).
        if (_byId.Count > MaxCached)
        {
            _byId.Clear();
            _bySubject.Clear();
        }
    }

    private sealed record Cached(DataKey? Key, long At)
    {
        public bool IsFresh(long now, TimeProvider time, TimeSpan cacheTime) => time.GetElapsedTime(At, now) < cacheTime;
    }
}
