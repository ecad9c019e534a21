using System.Collections.Concurrent;

namespace RawLoopback;

/// <summary>The connected clients; a published batch is handed to each one's queue, never awaited.</summary>
internal sealed class Broadcaster
{
    private readonly ConcurrentDictionary<RawClient, byte> _clients = new();
    private long _dropped;

    public int Count => _clients.Count;

    public long Dropped => Interlocked.Read(ref _dropped);

    public void Add(RawClient client) => _clients.TryAdd(client, 0);

    public void Remove(RawClient client) => _clients.TryRemove(client, out _);

    public void Publish(FrameBatch batch)
    {
        foreach (var client in _clients.Keys)
        {
            if (!client.TryEnqueue(batch.Bytes))
            {
                Interlocked.Add(ref _dropped, batch.Count);
            }
        }
    }
}
