using System.ComponentModel.DataAnnotations;

namespace AuditStream.Ledger.Cluster;

/// <summary>
/// How instances sharing one PostgreSQL ledger elect their one writer, follow the ledger and forward appends
/// (ignored with SQLite: one instance, always the writer).
/// </summary>
public sealed class ClusterOptions : IValidatableObject
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "AuditStream:Cluster";

    /// <summary>
    /// The address other instances reach this one at when it leads (e.g. <c>http://auditstream-0.auditstream:8080</c>):
    /// followers forward appends there. Recorded in the leader row on election.
    /// </summary>
    /// <value>Default <c>null</c>: this instance can lead, but followers cannot forward to it (they answer 503 naming this key).</value>
    public string? AdvertisedUrl { get; set; }

    /// <summary>
    /// How long an elected instance's lease lasts without renewal (measured by the database's clock). When the leader
    /// dies or is paused, another instance is elected after at most this plus <see cref="ElectionInterval"/>.
    /// </summary>
    /// <value>Default 3 seconds.</value>
    public TimeSpan LeaseTime { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How often the leader renews its lease and a follower tries to take an expired one.</summary>
    /// <value>Default 0.5 seconds.</value>
    public TimeSpan ElectionInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often a follower reads the shared ledger's head when no commit signal woke it (a lost signal delays by at most this).</summary>
    /// <value>Default 1 second.</value>
    public TimeSpan FollowerPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a follower keeps trying to hand an append to the leader (across a failover) before answering 503.</summary>
    /// <value>Default 10 seconds.</value>
    public TimeSpan ForwardTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The shared secret (base64, at least 32 bytes) that authenticates forwarded appends between instances.
    /// A secret: never printed.
    /// </summary>
    /// <value>Default <c>null</c>: derived from the cluster's one checkpoint signing key (HKDF-SHA256).</value>
    public string? Secret { get; set; }

    /// <summary>
    /// Largest commit (bytes of its records) the leader sends along with its announcement on a Redis backplane, so that
    /// followers extend their feed without reading the records back from PostgreSQL; a larger commit, or any commit when
    /// this is 0, is announced by its seq range alone. The records are authenticated under the cluster's key and checked
    /// hash by hash; Redis then holds audit bodies in transit (pii encrypted as in the ledger), as PostgreSQL does at rest.
    /// </summary>
    /// <value>Default 1 MiB.</value>
    [Range(0, 64 << 20)]
    public int MaxCarriedBytes { get; set; } = 1 << 20;

    /// <summary>
    /// This instance's id: its name in the leader row and the logs, and the holder of the sink and alert leases it runs
    /// (<c>GET /api/v1/sinks</c> shows it as their owner). Must differ between instances running at the same time (a pod
    /// name does).
    /// </summary>
    /// <value>Default <c>{hostname}-{process id}</c>.</value>
    public string InstanceId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(InstanceId))
        {
            yield return new ValidationResult($"{SectionName}:{nameof(InstanceId)} must not be empty.", [nameof(InstanceId)]);
        }

        if (ElectionInterval <= TimeSpan.Zero)
        {
            yield return new ValidationResult($"{SectionName}:{nameof(ElectionInterval)} must be positive.", [nameof(ElectionInterval)]);
        }

        if (LeaseTime < ElectionInterval * 2)
        {
            yield return new ValidationResult(
                $"{SectionName}:{nameof(LeaseTime)} ({LeaseTime}) must be at least twice {SectionName}:{nameof(ElectionInterval)} ({ElectionInterval}): the leader renews once per interval.",
                [nameof(LeaseTime)]);
        }

        if (FollowerPollInterval <= TimeSpan.Zero || FollowerPollInterval > TimeSpan.FromSeconds(1))
        {
            yield return new ValidationResult($"{SectionName}:{nameof(FollowerPollInterval)} must be more than 0 and at most 1 second.", [nameof(FollowerPollInterval)]);
        }

        if (ForwardTimeout <= TimeSpan.Zero)
        {
            yield return new ValidationResult($"{SectionName}:{nameof(ForwardTimeout)} must be positive.", [nameof(ForwardTimeout)]);
        }

        if (AdvertisedUrl is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            yield return new ValidationResult($"{SectionName}:{nameof(AdvertisedUrl)} must be an absolute http or https URL.", [nameof(AdvertisedUrl)]);
        }

        if (Secret is { } secret && !IsStrongBase64(secret))
        {
            yield return new ValidationResult($"{SectionName}:{nameof(Secret)} must be base64 of at least 32 bytes.", [nameof(Secret)]);
        }
    }

    private static bool IsStrongBase64(string value)
    {
        var buffer = new byte[value.Length];
        return Convert.TryFromBase64String(value, buffer, out var written) && written >= 32;
    }
}
