using System.ComponentModel.DataAnnotations;

namespace AuditStream.Ledger.Privacy;

/// <summary>
/// Configuration of <c>pii</c> encryption (section <c>AuditStream:Ledger:Privacy</c>): the master keys that wrap the
/// per-subject data keys, and how long an unwrapped data key is kept in memory.
/// </summary>
public sealed class PrivacyOptions
{
    /// <summary>
    /// Master keys by key id, each the base64 of 32 random bytes (e.g. the environment variable
    /// <c>AuditStream__Ledger__Privacy__MasterKeys__mk-2027</c>). When any is configured, the key file is not used.
    /// A secret: never printed.
    /// </summary>
    /// <value>Default empty: the master keys are read from <see cref="MasterKeyFile"/>.</value>
    public Dictionary<string, string> MasterKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The master key file: one <c>&lt;key id&gt; &lt;base64 key&gt;</c> line per key, the last one active; created with mode
    /// 0600 and one random key on first start when absent and no <see cref="MasterKeys"/> are configured (the development
    /// default, like the checkpoint signing key). <c>auditstream keys rotate</c> appends a new key to it.
    /// </summary>
    /// <value>Default <c>null</c>: <c>{DataDirectory}/master-keys.key</c>.</value>
    public string? MasterKeyFile { get; set; }

    /// <summary>The master key new data keys are wrapped with (and rotation re-wraps to).</summary>
    /// <value>Default <c>null</c>: the last key of the file, or the only configured key (required when several are configured).</value>
    public string? ActiveMasterKeyId { get; set; }

    /// <summary>
    /// How long an unwrapped data key is kept in memory before it is read from the key store again: the longest another
    /// instance sharing a PostgreSQL ledger may still decrypt a subject erased elsewhere. The instance that erases forgets at once.
    /// </summary>
    /// <value>Default 30 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan DataKeyCacheTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Retention rules: a data subject's key is shredded (as by an erasure) once every event sealed with it is covered by a
    /// rule whose <see cref="RetentionPolicy.MaxAge"/> it has passed. A subject with any younger or uncovered event keeps its key.
    /// </summary>
    /// <value>Default empty: nothing is shredded by retention.</value>
    public List<RetentionPolicy> Retention { get; set; } = [];

    /// <summary>
    /// How often the server applies <see cref="Retention"/> by itself (on the cluster's leader only; a single SQLite
    /// instance is always its leader). Null: never; retention then runs only through <c>POST /api/v1/retention/apply</c>.
    /// </summary>
    /// <value>Default null (off): shredding is irreversible, so it starts only when an operator asks for a schedule.</value>
    [Range(typeof(TimeSpan), "00:00:00.100", "30.00:00:00", ErrorMessage = "RetentionInterval must be between 100 ms and 30 days.")]
    public TimeSpan? RetentionInterval { get; set; }
}
