using AuditStream.Events;
using AuditStream.Ledger.Storage;
using AuditStream.Privacy;

namespace AuditStream.Ledger.Privacy;

/// <summary>
/// Retention by crypto-shredding: finds the data subjects whose every pii-bearing event under their live key is past a
/// <see cref="RetentionPolicy"/>, and (on apply) erases them through <see cref="SubjectErasure"/>, so each shredding appends
/// its <c>privacy.erasure.completed</c> event and no row changes (the chain and Merkle proofs keep verifying).
/// </summary>
public sealed class RetentionSweep
{
    /// <summary>The actor id of erasures made by retention.</summary>
    public const string Actor = "system:retention";

    private readonly AuditLedger _ledger;
    private readonly IReadOnlyList<RetentionPolicy> _policies;
    private readonly TimeProvider _time;

    /// <summary>A sweep over <paramref name="ledger"/> with <paramref name="policies"/>.</summary>
    public RetentionSweep(AuditLedger ledger, IReadOnlyList<RetentionPolicy> policies, TimeProvider time)
    {
        _ledger = ledger;
        _policies = policies;
        _time = time;
    }

    /// <summary>
    /// What retention would shred (or, with <paramref name="apply"/>, shreds) within <paramref name="tenantId"/>, or every
    /// tenant when null. Counts are of events whose personal data is (or would be) shredded, per tenant and category.
    /// </summary>
    public async Task<RetentionResult> RunAsync(string? tenantId, bool apply, CancellationToken cancellationToken)
    {
        var now = Timestamps.ToMicros(_time.GetUtcNow());
        var subjects = new Dictionary<(string Tenant, string Subject, string KeyId), Candidate>();
        var query = new EventQuery
        {
            TenantId = tenantId is { Length: > 0 } ? tenantId : null,
            UpToSeq = _ledger.Head.Size,
            Limit = 1_000,
            Residual = r => r.Event.SubjectId is not null && r.Event.Pii is { } pii && PiiEnvelope.TryGetKeyId(pii, out _),
        };
        var store = _ledger.SubjectKeys.Store;
        while (_policies.Count > 0)
        {
            var page = await _ledger.Store.QueryAsync(query, cancellationToken);
            foreach (var record in page.Records)
            {
                var e = record.Event;
                var tenant = e.TenantId ?? "";
                if (tenantId is not null && tenant != tenantId)
                {
                    continue;
                }

                PiiEnvelope.TryGetKeyId(e.Pii!.Value, out var keyId);
                var key = (tenant, e.SubjectId!, keyId!);
                if (!subjects.TryGetValue(key, out var candidate))
                {
                    candidate = new Candidate { Live = store.Find(keyId!) is not null };
                    subjects[key] = candidate;
                }

                var category = e.Category ?? "";
                var expired = _policies.Any(p => p.Covers(tenant, category, e.Type ?? "") && record.TimestampMicros <= now - (long)(p.MaxAge.Ticks / 10));
                candidate.Eligible &= expired;
                candidate.Categories[category] = candidate.Categories.GetValueOrDefault(category) + 1;
            }

            if (page.ScannedThroughSeq is not { } through)
            {
                break;
            }

            query = query with { AfterSeq = through };
        }

        var counts = new SortedDictionary<(string Tenant, string Category), long>();
        var shredded = new List<RetentionSubject>();
        var resumed = 0;
        foreach (var ((tenant, subject, keyId), candidate) in subjects)
        {
            if (!candidate.Live && apply && store.FindLatestErasure(tenant, subject) is { ErasureSeq: null } pending && pending.KeyId == keyId)
            {
                // The key was destroyed but the run (or a request) stopped before its erasure event: append that same event now.
                await _ledger.Erasure.EraseAsync(tenant, subject, Actor, cancellationToken);
                resumed++;
                continue;
            }

            if (!candidate.Live || !candidate.Eligible)
            {
                continue;
            }

            if (apply && await _ledger.Erasure.EraseAsync(tenant, subject, Actor, cancellationToken) is null)
            {
                continue; // Erased meanwhile by someone else.
            }

            shredded.Add(new RetentionSubject(tenant, subject));
            foreach (var (category, n) in candidate.Categories)
            {
                counts[(tenant, category)] = counts.GetValueOrDefault((tenant, category)) + n;
            }
        }

        return new RetentionResult(apply, [.. counts.Select(c => new RetentionCount(c.Key.Tenant, c.Key.Category, c.Value))], shredded, resumed);
    }

    private sealed class Candidate
    {
        public bool Live { get; init; }

        public bool Eligible { get; set; } = true;

        public Dictionary<string, long> Categories { get; } = new(StringComparer.Ordinal);
    }
}

/// <summary>What a retention run shredded (<paramref name="Applied"/>) or would shred.</summary>
/// <param name="Applied">True when keys were destroyed, false for a dry run.</param>
/// <param name="Events">Events whose personal data is (or would be) shredded, per tenant and category.</param>
/// <param name="Subjects">The data subjects shredded (or that would be).</param>
/// <param name="Resumed">Erasures found interrupted (key destroyed, no erasure event yet) and completed by this run.</param>
public sealed record RetentionResult(bool Applied, IReadOnlyList<RetentionCount> Events, IReadOnlyList<RetentionSubject> Subjects, int Resumed = 0);

/// <summary>Events of one tenant and category whose personal data is shredded.</summary>
public sealed record RetentionCount(string TenantId, string Category, long Events);

/// <summary>A data subject whose key retention shreds.</summary>
public sealed record RetentionSubject(string TenantId, string SubjectId);
