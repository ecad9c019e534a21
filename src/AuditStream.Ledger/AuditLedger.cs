using AuditStream.Canonical;
using AuditStream.Checkpoints;
using AuditStream.Events;
using AuditStream.Ledger.Checkpoints;
using AuditStream.Ledger.Cluster;
using AuditStream.Ledger.Feed;
using AuditStream.Ledger.Postgres;
using AuditStream.Ledger.Privacy;
using AuditStream.Ledger.Proofs;
using AuditStream.Ledger.Storage;
using AuditStream.Ledger.Verification;
using AuditStream.Ledger.Writing;
using AuditStream.Validation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuditStream.Ledger;

/// <summary>
/// The ledger as one object: store, single writer, committed feed, proofs and checkpoint signing, opened from
/// <see cref="LedgerOptions"/>. Producers call <see cref="AppendAsync"/>; validation, classification and
/// canonicalization run on the caller's thread, so the writer only chains, hashes and inserts.
/// </summary>
public sealed class AuditLedger : IEventAppender, IAsyncDisposable
{
    private readonly EventPreparer _preparer;
    private readonly NoteSigner _signer;
    private readonly LedgerMetrics? _metrics;
    /// <summary>The HKDF purpose of the key that authenticates the records carried by commit announcements.</summary>
    private const string CarriedRecordsKeyPurpose = "auditstream commit records v1";

    private readonly ICommitSignal? _ownedSignal;
    private int _disposed;

    private AuditLedger(ILedgerStore store, CommittedFeed feed, LedgerWriter writer, CheckpointPublisher checkpoints, NoteSigner signer, EventPreparer preparer, LedgerMetrics? metrics, string describe, string ledgerId, LedgerCluster? cluster, ICommitSignal? ownedSignal, SubjectKeyRing subjectKeys, TimeProvider time)
    {
        LedgerId = ledgerId;
        Cluster = cluster;
        _ownedSignal = ownedSignal;
        SubjectKeys = subjectKeys;
        Erasure = new SubjectErasure(this, subjectKeys, signer, time);
        _metrics = metrics;
        Describe = describe;
        Store = store;
        Feed = feed;
        Writer = writer;
        Checkpoints = checkpoints;
        _signer = signer;
        _preparer = preparer;
        Proofs = new LedgerProofs(store, () => writer.Head.Size);
        Tiles = new LedgerTiles(store, () => writer.Head.Size);
    }

    /// <summary>The durable store.</summary>
    public ILedgerStore Store { get; }

    /// <summary>The seq-ordered stream of committed records.</summary>
    public CommittedFeed Feed { get; }

    /// <summary>The single writer.</summary>
    public LedgerWriter Writer { get; }

    /// <summary>Inclusion and consistency proofs.</summary>
    public LedgerProofs Proofs { get; }

    /// <summary>The tree as C2SP tlog-tiles.</summary>
    public LedgerTiles Tiles { get; }

    /// <summary>Signed checkpoints.</summary>
    public CheckpointPublisher Checkpoints { get; }

    /// <summary>The per-subject data keys <c>pii</c> is encrypted with (DESIGN.md §4).</summary>
    public SubjectKeyRing SubjectKeys { get; }

    /// <summary>Erasure of a subject by destroying its data key.</summary>
    public SubjectErasure Erasure { get; }

    /// <summary>Where the ledger lives, for logs and messages (a file path or a database; never credentials).</summary>
    public string Describe { get; }

    /// <summary>
    /// The ledger's id (<see cref="ILedgerStore.ReadLedgerIdAsync"/>): the same on every instance of this ledger and
    /// different for any other, so a client resumes by (ledger id, seq) on any instance and is refused on another ledger.
    /// </summary>
    public string LedgerId { get; }

    /// <summary>The committed end of the ledger.</summary>
    public LedgerHead Head => Writer.Head;

    /// <summary>This instance's role among the instances sharing a PostgreSQL ledger; null with SQLite (one instance, always the writer).</summary>
    public LedgerCluster? Cluster { get; }

    /// <summary>True when this instance commits appends itself; false when it must forward them to the leader.</summary>
    public bool IsLeader => Cluster?.IsLeader ?? true;

    /// <summary>
    /// A 32-byte key for <paramref name="purpose"/> derived (HKDF-SHA256) from the checkpoint signing key, which every
    /// instance of a cluster shares: a secret the instances agree on without configuring another one.
    /// </summary>
    public byte[] DeriveKey(string purpose) => DeriveKey(_signer, purpose);

    private static byte[] DeriveKey(NoteSigner signer, string purpose)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(purpose);
        var ikm = System.Text.Encoding.UTF8.GetBytes(signer.ExportSignerKey());
        try
        {
            return DeriveKey(ikm, purpose);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(ikm);
        }
    }

    private static byte[] DeriveKey(byte[] ikm, string purpose) => System.Security.Cryptography.HKDF.DeriveKey(
        System.Security.Cryptography.HashAlgorithmName.SHA256, ikm, 32, salt: [], info: System.Text.Encoding.UTF8.GetBytes(purpose));

    /// <summary>The key that authenticates the records a leader's announcements carry: from the cluster's secret when set, else from the signing key.</summary>
    private static byte[] CarriedRecordsKey(NoteSigner signer, ClusterOptions cluster) => cluster.Secret is { } secret
        ? DeriveKey(Convert.FromBase64String(secret), CarriedRecordsKeyPurpose)
        : DeriveKey(signer, CarriedRecordsKeyPurpose);

    /// <summary>The checkpoint verifier key (<c>name+hash+base64</c>) that clients pin.</summary>
    public string VerifierKey => _signer.VerifierKey;

    /// <summary>
    /// Opens (creating if needed) the ledger described by <paramref name="options"/> in the store it selects
    /// (<see cref="LedgerStores"/>) and starts its writer and checkpoint
    /// signing. <paramref name="decorateStore"/> may wrap the store (fault injection in tests); <paramref name="metrics"/>,
    /// when given, records commits and observes the tree size and checkpoint age until the ledger is disposed.
    /// With PostgreSQL the instance joins the cluster of <paramref name="cluster"/> (defaults when null): it checks that its
    /// signer is the ledger's, takes part in the leader election and follows the ledger while another instance writes,
    /// woken by the signal <paramref name="commitSignal"/> makes for the ledger id (a Redis backplane, owned by the caller) or,
    /// when null, by PostgreSQL LISTEN/NOTIFY (owned by the ledger).
    /// </summary>
    public static async Task<AuditLedger> OpenAsync(
        LedgerOptions options,
        EventPreparer? preparer = null,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        Func<ILedgerStore, ILedgerStore>? decorateStore = null,
        LedgerMetrics? metrics = null,
        ClusterOptions? cluster = null,
        Func<string, ICommitSignal>? commitSignal = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        loggerFactory ??= NullLoggerFactory.Instance;
        var time = timeProvider ?? TimeProvider.System;
        Directory.CreateDirectory(options.DataDirectory);
        var signer = SigningKeyFile.LoadOrCreate(options.ResolvedSigningKeyPath, options.Origin);
        var subjectKeys = LedgerStores.OpenSubjectKeys(options, create: true, timeProvider);
        var baseStore = LedgerStores.Create(options, loggerFactory);
        var shared = baseStore as PostgresLedgerStore;
        var fence = shared is null ? null : new WriterFence();
        if (shared is not null)
        {
            // Fenced from the first commit: until elected, this instance's commits are refused.
            shared.Fence = fence;
        }

        var store = decorateStore?.Invoke(baseStore) ?? baseStore;
        var feed = new CommittedFeed(store, options.BroadcastBufferSize);
        var writer = new LedgerWriter(store, feed, options, timeProvider, loggerFactory.CreateLogger<LedgerWriter>(), metrics);
        LedgerCluster? node = null;
        PostgresCommitSignal? ownedSignal = null;
        try
        {
            await writer.StartAsync(cancellationToken);
            var ledgerId = await store.ReadLedgerIdAsync(cancellationToken);
            if (shared is not null)
            {
                await LeaderRow.CheckVerifierKeyAsync(shared.DataSource, signer.VerifierKey, LedgerStores.Describe(options), cancellationToken);
                var signal = commitSignal?.Invoke(ledgerId);
                if (signal is null)
                {
                    ownedSignal = new PostgresCommitSignal(options.ConnectionString!, time, loggerFactory.CreateLogger<PostgresCommitSignal>());
                    await ownedSignal.StartAsync(cancellationToken);
                }

                cluster ??= new ClusterOptions();
                node = new LedgerCluster(shared, writer, feed, fence!, cluster, signal ?? ownedSignal, CarriedRecordsKey(signer, cluster), time, loggerFactory);
                await node.StartAsync(cancellationToken);
            }

            var checkpoints = new CheckpointPublisher(store, writer, signer, options, timeProvider, loggerFactory.CreateLogger<CheckpointPublisher>(), metrics) { Fence = fence };
            await checkpoints.StartAsync(cancellationToken);
            metrics?.Attach(writer, checkpoints, time);
            return new AuditLedger(store, feed, writer, checkpoints, signer, preparer ?? new EventPreparer(), metrics, LedgerStores.Describe(options), ledgerId, node, ownedSignal, subjectKeys, time);
        }
        catch
        {
            subjectKeys.Dispose();
            await writer.DisposeAsync();
            if (node is not null)
            {
                await node.DisposeAsync();
            }

            if (ownedSignal is not null)
            {
                await ownedSignal.DisposeAsync();
            }

            await store.DisposeAsync();
            signer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Validates every event and, only if all are valid, appends them atomically. <paramref name="defaultTenant"/> is the
    /// producer's tenant, used where an event has none. Validation errors name the event index, the field and the rule.
    /// </summary>
    public async Task<LedgerAppendResult> AppendAsync(IReadOnlyList<AuditEvent> events, string? defaultTenant = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        var prepared = new PreparedEvent[events.Count];
        List<IndexedValidationError>? errors = null;
        var scratch = new List<ValidationError>();
        for (var i = 0; i < events.Count; i++)
        {
            scratch.Clear();
            var result = _preparer.Prepare(events[i], defaultTenant, scratch, SubjectKeys);
            if (result is null)
            {
                errors ??= [];
                errors.AddRange(scratch.Select(e => new IndexedValidationError(i, e)));
                continue;
            }

            prepared[i] = result;
        }

        if (errors is not null)
        {
            return new LedgerAppendResult(null, errors);
        }

        return new LedgerAppendResult(await Writer.AppendAsync(prepared, cancellationToken), []);
    }

    /// <summary>Re-walks the whole ledger; see <see cref="LedgerVerifier"/>.</summary>
    public Task<VerificationReport> VerifyAsync(VerificationOptions? options = null, CancellationToken cancellationToken = default) =>
        new LedgerVerifier(Store).VerifyAsync(options ?? new VerificationOptions { VerifierKey = VerifierKey }, cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        // Order matters: drain the writer, then sign a final checkpoint of everything it committed.
        await Writer.StopAsync();
        await Checkpoints.DisposeAsync();

        // After the final checkpoint: the lease is released last, and another instance takes over at once.
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        if (_ownedSignal is not null)
        {
            await _ownedSignal.DisposeAsync();
        }

        _metrics?.Detach(Writer);
        await Store.DisposeAsync();
        SubjectKeys.Dispose();
        _signer.Dispose();
    }
}

/// <summary>A validation error of one event in a batch.</summary>
/// <param name="Index">Position of the event in the request (0-based).</param>
/// <param name="Error">Field and rule.</param>
public readonly record struct IndexedValidationError(int Index, ValidationError Error);

/// <summary>Either validation errors (nothing written) or the writer's result.</summary>
/// <param name="Append">The writer's result when every event was valid.</param>
/// <param name="Errors">Every validation error, when any event was invalid.</param>
public sealed record LedgerAppendResult(AppendResult? Append, IReadOnlyList<IndexedValidationError> Errors)
{
    /// <summary>True when the batch was refused for invalid events.</summary>
    public bool IsInvalid => Errors.Count > 0;
}
