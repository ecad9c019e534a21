using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace AuditStream.AspNetCore.Internal;

/// <summary>Passes the response body through unchanged, counting the bytes written (stream, pipe or send-file).</summary>
internal sealed class CountingBodyFeature : IHttpResponseBodyFeature
{
    private readonly IHttpResponseBodyFeature _inner;
    private CountingStream? _stream;
    private CountingPipeWriter? _writer;
    private long _sendFileBytes;

    public CountingBodyFeature(IHttpResponseBodyFeature inner) => _inner = inner;

    public long Bytes => (_stream?.Bytes ?? 0) + (_writer?.Bytes ?? 0) + _sendFileBytes;

    public Stream Stream => _stream ??= new CountingStream(_inner.Stream);

    public PipeWriter Writer => _writer ??= new CountingPipeWriter(_inner.Writer);

    public Task CompleteAsync() => _inner.CompleteAsync();

    public void DisableBuffering() => _inner.DisableBuffering();

    public async Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
    {
        await _inner.SendFileAsync(path, offset, count, cancellationToken).ConfigureAwait(false);
        _sendFileBytes += count ?? new FileInfo(path).Length - offset;
    }

    public Task StartAsync(CancellationToken cancellationToken = default) => _inner.StartAsync(cancellationToken);

    private sealed class CountingPipeWriter(PipeWriter inner) : PipeWriter
    {
        public long Bytes { get; private set; }

        public override void Advance(int bytes)
        {
            Bytes += bytes;
            inner.Advance(bytes);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;
    }

    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Bytes { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            Bytes += count;
            inner.Write(buffer, offset, count);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Bytes += buffer.Length;
            inner.Write(buffer);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Bytes += count;
            return inner.WriteAsync(buffer, offset, count, cancellationToken);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Bytes += buffer.Length;
            return inner.WriteAsync(buffer, cancellationToken);
        }
    }
}
