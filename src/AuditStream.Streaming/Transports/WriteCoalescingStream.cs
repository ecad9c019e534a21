using System.Buffers;

namespace AuditStream.Streaming.Transports;

/// <summary>
/// The connection stream under a server WebSocket, so that a client's write loop can put many WebSocket frames in one
/// socket write: between <see cref="Hold"/> and <see cref="ReleaseAsync"/> writes are gathered in a pooled buffer and
/// then written at once. Writes outside that window (pings and pongs the WebSocket sends by itself) pass straight
/// through. On this kind of box a socket write costs 10–12 µs of CPU whatever its size (DESIGN.md §7), so this is
/// where fan-out throughput comes from. Reads pass through untouched.
/// </summary>
public sealed class WriteCoalescingStream : Stream
{
    // Past this many held bytes the buffer is written out even while held, so memory per client stays bounded.
    private const int MaxHeldBytes = 256 * 1024;

    private readonly Stream _inner;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private byte[] _buffer = [];
    private int _length;
    private volatile bool _held;

    /// <summary>Wraps <paramref name="inner"/>, the upgraded connection's stream.</summary>
    public WriteCoalescingStream(Stream inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
    }

    /// <summary>Socket writes made through this stream (for tests and diagnostics).</summary>
    public long InnerWrites { get; private set; }

    /// <inheritdoc />
    public override bool CanRead => _inner.CanRead;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => _inner.CanWrite;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Gathers writes from now until <see cref="ReleaseAsync"/>.</summary>
    public void Hold() => _held = true;

    /// <summary>Writes what was gathered since <see cref="Hold"/> in one write and lets later writes pass through.</summary>
    public async ValueTask ReleaseAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            _held = false;
            await WriteHeldAsync(cancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc />
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            if (!_held)
            {
                InnerWrites++;
                await _inner.WriteAsync(buffer, cancellationToken);
                return;
            }

            if (_length + buffer.Length > _buffer.Length)
            {
                if (_length + buffer.Length > MaxHeldBytes && _length > 0)
                {
                    await WriteHeldAsync(cancellationToken);
                }

                Grow(_length + buffer.Length);
            }

            buffer.Span.CopyTo(_buffer.AsSpan(_length));
            _length += buffer.Length;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("The connection only accepts asynchronous writes.");

    /// <inheritdoc />
    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            if (!_held)
            {
                await _inner.FlushAsync(cancellationToken);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _inner.ReadAsync(buffer, cancellationToken);

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _inner.ReadAsync(buffer, offset, count, cancellationToken);

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            _writeLock.Dispose();
            ReturnBuffer();
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await _inner.DisposeAsync();
        _writeLock.Dispose();
        ReturnBuffer();
        await base.DisposeAsync();
    }

    private async ValueTask WriteHeldAsync(CancellationToken cancellationToken)
    {
        if (_length == 0)
        {
            return;
        }

        var length = _length;
        _length = 0;
        InnerWrites++;
        await _inner.WriteAsync(_buffer.AsMemory(0, length), cancellationToken);

        // An idle client should not keep a large buffer: give it back once it has been written.
        ReturnBuffer();
    }

    private void Grow(int needed)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 4096));
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        ReturnBuffer(keepLength: true);
        _buffer = bigger;
    }

    private void ReturnBuffer(bool keepLength = false)
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

        if (!keepLength)
        {
            _length = 0;
        }
    }
}
