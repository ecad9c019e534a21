using System.Buffers;
using System.IO.Pipelines;

namespace AuditStream.Server.Streaming.Connections;

/// <summary>
/// A taken-over connection's transport pipes as the <see cref="Stream"/> the WebSocket transport reads and writes: reads
/// copy out of <see cref="IDuplexPipe.Input"/>, writes go to <see cref="IDuplexPipe.Output"/> and are flushed to the
/// socket by the same call. Kestrel owns the pipes; disposing this does nothing.
/// </summary>
internal sealed class DuplexPipeStream(IDuplexPipe pipe) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var input = pipe.Input;
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken);
            var data = result.Buffer;
            if (!data.IsEmpty)
            {
                var count = (int)Math.Min(data.Length, buffer.Length);
                data.Slice(0, count).CopyTo(buffer.Span);
                input.AdvanceTo(data.GetPosition(count));
                return count;
            }

            input.AdvanceTo(data.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                return 0;
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var result = await pipe.Output.WriteAsync(buffer, cancellationToken);
        if (result.IsCanceled || result.IsCompleted)
        {
            throw new IOException("The connection is closed.");
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async Task FlushAsync(CancellationToken cancellationToken) => await pipe.Output.FlushAsync(cancellationToken);

    public override void Flush() => throw new NotSupportedException("The connection is written asynchronously.");

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("The connection is read asynchronously.");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("The connection is written asynchronously.");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
