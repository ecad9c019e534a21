using System.Threading.Channels;

namespace RawLoopback;

/// <summary>
/// One upgraded connection: a bounded queue of frame batches and one writer loop that copies every batch waiting into
/// one buffer and writes it with one call (many frames per socket write, the box's real limit). Reads are discarded;
/// the connection ends when the client closes or the socket fails.
/// </summary>
internal sealed class RawClient(Stream stream)
{
    private readonly Channel<ReadOnlyMemory<byte>> _queue = Channel.CreateBounded<ReadOnlyMemory<byte>>(
        new BoundedChannelOptions(65_536) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    public bool TryEnqueue(ReadOnlyMemory<byte> bytes) => _queue.Writer.TryWrite(bytes);

    public async Task RunAsync(Broadcaster broadcaster, ReadOnlyMemory<byte> greeting, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(greeting, cancellationToken);
        broadcaster.Add(this);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writing = WriteLoopAsync(stop.Token);
        try
        {
            var sink = new byte[1024];
            while (await stream.ReadAsync(sink, stop.Token) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
        }
        finally
        {
            broadcaster.Remove(this);
            _queue.Writer.TryComplete();
            await stop.CancelAsync();
            await writing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task WriteLoopAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync(cancellationToken))
        {
            var used = 0;
            while (reader.TryPeek(out var next))
            {
                if (next.Length > buffer.Length - used)
                {
                    if (used > 0)
                    {
                        break;
                    }

                    // Larger than the buffer: write it directly.
                    reader.TryRead(out _);
                    await stream.WriteAsync(next, cancellationToken);
                    continue;
                }

                reader.TryRead(out _);
                next.Span.CopyTo(buffer.AsSpan(used));
                used += next.Length;
            }

            if (used > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, used), cancellationToken);
            }
        }
    }
}
