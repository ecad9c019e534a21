using System.ComponentModel.DataAnnotations;
using AuditStream.Ledger.Privacy;

namespace AuditStream.Ledger;

/// <summary>Configuration of the ledger: where it lives, how the writer batches, and how often checkpoints are signed.</summary>
public sealed class LedgerOptions : IValidatableObject
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "AuditStream:Ledger";

    /// <summary>Which store holds the events, Merkle subtrees and checkpoints.</summary>
    /// <value>Default <see cref="LedgerProvider.Sqlite"/>: <c>{DataDirectory}/ledger.db</c>.</value>
    public LedgerProvider Provider { get; set; } = LedgerProvider.Sqlite;

    /// <summary>
    /// The Npgsql connection string of the PostgreSQL database when <see cref="Provider"/> is <see cref="LedgerProvider.Postgres"/>
    /// (e.g. <c>Host=db;Database=audit;Username=auditstream;Password=…</c>; <c>Search Path=…</c> puts the tables in a schema);
    /// ignored for SQLite. A secret: never printed.
    /// </summary>
    /// <value>Default <c>null</c>; required for PostgreSQL.</value>
    public string? ConnectionString { get; set; }

    /// <summary>Directory of the SQLite file and the signing key (the key stays here with PostgreSQL too).</summary>
    /// <value>Default <c>./data</c>.</value>
    [Required]
    public string DataDirectory { get; set; } = "./data";

    /// <summary>Origin line of signed checkpoints (C2SP tlog-checkpoint), e.g. <c>audit.example.com/ledger</c>; also the signing key's name.</summary>
    /// <value>Default <c>auditstream.local/ledger</c>.</value>
    [Required]
    [RegularExpression(@"^[^\s+]+$", ErrorMessage = "Origin must be non-empty and contain no whitespace or '+'.")]
    public string Origin { get; set; } = "auditstream.local/ledger";

    /// <summary>Path of the Ed25519 signer key (<c>PRIVATE+KEY+…</c>); generated there on first start when absent.</summary>
    /// <value>Default <c>null</c>: <c>{DataDirectory}/checkpoint-signer.key</c>.</value>
    public string? SigningKeyPath { get; set; }

    /// <summary>Most events waiting for the writer; an append beyond it is refused as busy rather than queued.</summary>
    /// <value>Default 100,000 events.</value>
    [Range(1, 10_000_000)]
    public int MaxQueuedEvents { get; set; } = 100_000;

    /// <summary>Most events committed in one transaction (one fsync).</summary>
    /// <value>Default 4,096 events.</value>
    [Range(1, 100_000)]
    public int MaxBatchEvents { get; set; } = 4_096;

    /// <summary>Sign a checkpoint after this many new events even if <see cref="CheckpointInterval"/> has not passed.</summary>
    /// <value>Default 100,000 events.</value>
    [Range(1, long.MaxValue)]
    public long CheckpointEveryEvents { get; set; } = 100_000;

    /// <summary>Sign a checkpoint this often when the tree grew.</summary>
    /// <value>Default 1 second.</value>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Committed records kept in memory for live consumers; older ones are read from the store.</summary>
    /// <value>Default 10,000 records (DESIGN.md §6 BroadcastBufferSize).</value>
    [Range(16, 10_000_000)]
    public int BroadcastBufferSize { get; set; } = 10_000;

    /// <summary>Ids remembered in memory for idempotency; older ids are found in the store.</summary>
    /// <value>Default 65,536 ids.</value>
    [Range(0, 10_000_000)]
    public int RecentIdCacheSize { get; set; } = 65_536;

    /// <summary>Directory where every signed checkpoint is also written as a file (e.g. a mount the server cannot rewrite).</summary>
    /// <value>Default <c>null</c>: checkpoints are only kept in the store.</value>
    public string? CheckpointExportDirectory { get; set; }

    /// <summary>Encryption of <c>pii</c> under per-subject data keys and the master keys that wrap them (<c>AuditStream:Ledger:Privacy</c>).</summary>
    /// <value>Default: a generated master key file in <see cref="DataDirectory"/>.</value>
    public PrivacyOptions Privacy { get; set; } = new();

    /// <summary>Where the master keys are read or, the first time, created (when none are configured).</summary>
    public string ResolvedMasterKeyPath => Privacy.MasterKeyFile ?? Path.Combine(DataDirectory, "master-keys.key");

    /// <summary>The SQLite file of the subject keys (with either store for the ledger only SQLite uses it).</summary>
    public string SubjectKeysPath => Path.Combine(DataDirectory, "subject-keys.db");

    /// <summary>Where the signer key is read or created.</summary>
    public string ResolvedSigningKeyPath => SigningKeyPath ?? Path.Combine(DataDirectory, "checkpoint-signer.key");

    /// <summary>The SQLite file (when <see cref="Provider"/> is SQLite).</summary>
    public string DatabasePath => Path.Combine(DataDirectory, "ledger.db");

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Provider == LedgerProvider.Postgres && string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return new ValidationResult(
                $"{SectionName}:{nameof(ConnectionString)} is required when {SectionName}:{nameof(Provider)} is {nameof(LedgerProvider.Postgres)}.",
                [nameof(ConnectionString)]);
        }

        var privacy = new List<ValidationResult>();
        if (!Validator.TryValidateObject(Privacy, new ValidationContext(Privacy), privacy, validateAllProperties: true))
        {
            foreach (var result in privacy)
            {
                yield return new ValidationResult($"{SectionName}:Privacy: {result.ErrorMessage}", [nameof(Privacy)]);
            }
        }
    }
}

/// <summary>The stores a ledger can live in.</summary>
public enum LedgerProvider
{
    /// <summary>One SQLite file in the data directory: embedded, one server instance.</summary>
    Sqlite,

    /// <summary>A PostgreSQL 15+ database named by <see cref="LedgerOptions.ConnectionString"/>.</summary>
    Postgres,
}
