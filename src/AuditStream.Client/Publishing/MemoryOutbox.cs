using System.Threading.Channels;
using AuditStream.Events;

namespace AuditStream.Client.Publishing;

/// <summary>A bounded in-memory outbox: a full buffer refuses events instead of growing or blocking. Several senders may read it at once.</summary>
internal sealed class MemoryOutbox(int capacity) : IOutbox
{
    private readonly Channel<AuditEvent> _channel = Channel.CreateBounded<AuditEvent>(new BoundedChannelOptions(capacity)
    {
        SingleReader = false,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private long _pending;

    public int MaxReaders => int.MaxValue;

    public bool IsEmpty => Interlocked.Read(ref _pending) == 0;

    public bool TryAdd(AuditEvent auditEvent)
    {
        if (!_channel.Writer.TryWrite(auditEvent))
        {
            return false;
        }

        Interlocked.Increment(ref _pending);
        return true;
    }

    public async ValueTask<IReadOnlyList<AuditEvent>> ReadBatchAsync(int max, TimeSpan linger, CancellationToken cancellationToken)
    {
        var reader = _channel.Reader;
        if (!await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return [];
        }

        var batch = new List<AuditEvent>(Math.Min(max, 64));
        Drain(batch, max);
        if (batch.Count < max && linger > TimeSpan.Zero)
        {
            using var lingerSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            lingerSource.CancelAfter(linger);
            try
            {
                while (batch.Count < max && await reader.WaitToReadAsync(lingerSource.Token).ConfigureAwait(false))
                {
                    Drain(batch, max);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The linger ended: send what we have.
            }
        }

        return batch;
    }

    private void Drain(List<AuditEvent> batch, int max)
    {
        while (batch.Count < max && _channel.Reader.TryRead(out var item))
        {
            batch.Add(item);
        }
    }

    public void Acknowledge(int count) => Interlocked.Add(ref _pending, -count);

    public void Complete() => _channel.Writer.TryComplete();

    public void Dispose() => Complete();
}
