using AuditStream.Ledger.Cluster;

namespace AuditStream.Sinks.Runtime;

/// <summary>The right of one instance to run one cursor, until it expires or another term begins.</summary>
/// <param name="Name">The cursor (a sink's name, or <c>alerts</c>).</param>
/// <param name="Holder">The instance id of the holder.</param>
/// <param name="Term">Grows with every grant: a position write carries it and is refused once a newer term exists.</param>
/// <param name="ExpiresAt">When it expires by the store's clock unless renewed; null where leases are local (SQLite).</param>
public sealed record CursorLease(string Name, string Holder, long Term, DateTimeOffset? ExpiresAt);

/// <summary>The outcome of <see cref="ISinkStateStore.TryAcquireAsync"/>.</summary>
/// <param name="Lease">The lease granted, or null when another instance holds it.</param>
/// <param name="Holder">That other instance, when known.</param>
/// <param name="Remaining">How long its lease still runs by the store's clock, when known.</param>
public readonly record struct LeaseAttempt(CursorLease? Lease, string? Holder, TimeSpan? Remaining);

/// <summary>Who this instance is when it takes leases, and for how long a lease lasts unless renewed.</summary>
/// <param name="Id">The instance id (<c>AuditStream:Cluster:InstanceId</c>).</param>
/// <param name="Duration">The lease time (<c>AuditStream:Sinks:LeaseDuration</c>); renewed every third of it.</param>
public sealed record LeaseHolder(string Id, TimeSpan Duration)
{
    /// <summary>The default lease time: 10 seconds.</summary>
    public static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(10);

    /// <summary>A holder for an instance that is alone on its store.</summary>
    public static LeaseHolder Local { get; } = new(new ClusterOptions().InstanceId, DefaultDuration);
}

/// <summary>The cursor's lease was lost (it expired unrenewed, or a position write was fenced): stop before delivering again.</summary>
internal sealed class LeaseLostException(string name)
    : Exception($"The lease on cursor '{name}' was lost: another instance runs it now.");
