using AuditStream.Events;

namespace AuditStream.Client.Publishing;

/// <summary>Where enqueued events wait until the server committed them: memory, or a spool directory.</summary>
internal interface IOutbox : IDisposable
{
    /// <summary>How many senders may read and acknowledge batches concurrently (a spool: one).</summary>
    int MaxReaders { get; }

    /// <summary>Adds an event (with its id set); false when the outbox is full.</summary>
    bool TryAdd(AuditEvent auditEvent);

    /// <summary>
    /// The next batch, oldest first: waits for a first event, then up to <paramref name="linger"/> for
    /// <paramref name="max"/>. Empty when the outbox was completed and is empty. The same events are not returned again
    /// until <see cref="Acknowledge"/>; after a process restart unacknowledged ones are (a spool re-sends them).
    /// </summary>
    ValueTask<IReadOnlyList<AuditEvent>> ReadBatchAsync(int max, TimeSpan linger, CancellationToken cancellationToken);

    /// <summary>The batch last read is committed (or rejected): forget it.</summary>
    void Acknowledge(int count);

    /// <summary>True when every event added (in this process or, for a spool, before) was acknowledged.</summary>
    bool IsEmpty { get; }

    /// <summary>No more events will be added.</summary>
    void Complete();
}
