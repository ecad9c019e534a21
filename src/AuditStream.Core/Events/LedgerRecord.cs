namespace AuditStream.Events;

/// <summary>
/// One committed ledger entry: its position, commit time, hash and the exact canonical bytes that were hashed.
/// This is what the committed feed, the store and every reader pass around.
/// </summary>
public sealed class LedgerRecord
{
    private AuditEvent? _event;
    private readonly AuditEvent? _producerEvent;

    /// <summary>Creates a record from its stored parts; the event object is parsed from <paramref name="body"/> on first use.</summary>
    public LedgerRecord(long seq, long timestampMicros, byte[] prevHash, byte[] hash, byte[] body)
        : this(seq, timestampMicros, prevHash, hash, body, producerEvent: null)
    {
    }

    /// <summary>Creates a record the writer just committed; <paramref name="producerEvent"/> is the validated event it came from.</summary>
    public LedgerRecord(long seq, long timestampMicros, byte[] prevHash, byte[] hash, byte[] body, AuditEvent? producerEvent)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(seq, 1);
        ArgumentNullException.ThrowIfNull(prevHash);
        ArgumentNullException.ThrowIfNull(hash);
        ArgumentNullException.ThrowIfNull(body);
        Seq = seq;
        TimestampMicros = timestampMicros;
        PrevHash = prevHash;
        Hash = hash;
        Body = body;
        _producerEvent = producerEvent;
    }

    /// <summary>Gap-free position from 1.</summary>
    public long Seq { get; }

    /// <summary>Commit time as microseconds since the Unix epoch (UTC).</summary>
    public long TimestampMicros { get; }

    /// <summary>Commit time.</summary>
    public DateTimeOffset Timestamp => DateTimeOffset.UnixEpoch.AddTicks(TimestampMicros * 10);

    /// <summary>Hash of the previous record (32 zero bytes for seq 1).</summary>
    public byte[] PrevHash { get; }

    /// <summary>SHA-256(prev_hash ‖ <see cref="Body"/>), 32 bytes.</summary>
    public byte[] Hash { get; }

    /// <summary>RFC 8785 canonical JSON of the event without <c>hash</c>: exactly the bytes that were hashed.</summary>
    public byte[] Body { get; }

    /// <summary>The event with every ledger field (seq, timestamp, prev_hash, hash) set.</summary>
    public AuditEvent Event => _event ??= BuildEvent();

    private AuditEvent BuildEvent()
    {
        var hash = Convert.ToHexStringLower(Hash);
        if (_producerEvent is not null)
        {
            return _producerEvent with
            {
                Seq = Seq,
                Timestamp = Timestamp,
                PrevHash = Convert.ToHexStringLower(PrevHash),
                Hash = hash,
            };
        }

        return EventBody.Parse(Body) with { Hash = hash };
    }
}
