using AuditStream.Ledger.Storage;

namespace AuditStream.Ledger.Writing;

/// <summary>The last N committed ids and their receipts, so re-sent events are answered without a store lookup. Writer thread only.</summary>
internal sealed class RecentIds(int capacity)
{
    private readonly Dictionary<Guid, AppendReceipt> _receipts = new(Math.Min(capacity, 1 << 16));
    private readonly Queue<Guid> _order = new(Math.Min(capacity, 1 << 16));

    public AppendReceipt? TryGet(Guid id) => _receipts.TryGetValue(id, out var receipt) ? receipt : null;

    public void Add(Guid id, AppendReceipt receipt)
    {
        if (capacity == 0 || !_receipts.TryAdd(id, receipt))
        {
            return;
        }

        _order.Enqueue(id);
        if (_order.Count > capacity)
        {
            _receipts.Remove(_order.Dequeue());
        }
    }
}
