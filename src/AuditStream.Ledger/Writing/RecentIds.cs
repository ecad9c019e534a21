using AuditStream.Ledger.Storage;

namespace AuditStream.Ledger.Writing;

/// <summary>A committed event's receipt and the fingerprint of its content (<see cref="EventContent"/>).</summary>
internal readonly record struct KnownId(AppendReceipt Receipt, UInt128 Content);

/// <summary>The last N committed (tenant, id) keys, so re-sent events are answered without a store lookup. Writer thread only.</summary>
internal sealed class RecentIds(int capacity)
{
    private readonly Dictionary<EventKey, KnownId> _known = new(Math.Min(capacity, 1 << 16));
    private readonly Queue<EventKey> _order = new(Math.Min(capacity, 1 << 16));

    public bool Enabled => capacity > 0;

    public KnownId? TryGet(EventKey key) => _known.TryGetValue(key, out var known) ? known : null;

    public void Add(EventKey key, KnownId known)
    {
        if (capacity == 0 || !_known.TryAdd(key, known))
        {
            return;
        }

        _order.Enqueue(key);
        if (_order.Count > capacity)
        {
            _known.Remove(_order.Dequeue());
        }
    }
}
