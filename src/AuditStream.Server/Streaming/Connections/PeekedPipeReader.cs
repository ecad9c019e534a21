using System.IO.Pipelines;

namespace AuditStream.Server.Streaming.Connections;

/// <summary>
/// A connection's input handed to HTTP after <see cref="StreamConnectionTakeover"/> looked at its first bytes over more
/// than one read. Those reads marked the bytes of all but the last as examined, and a pipe's examined position never
/// moves back, so HTTP's first read would wait for bytes that may never come. This reader returns the last read's
/// result, still unadvanced, to HTTP's first read, and keeps HTTP's first <see cref="AdvanceTo(SequencePosition, SequencePosition)"/>
/// from examining less than was examined before; after that it is the inner reader.
/// </summary>
internal sealed class PeekedPipeReader(PipeReader inner, ReadResult held, long examinedBefore) : PipeReader
{
    private bool _holding = true;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
        _holding ? new ValueTask<ReadResult>(held) : inner.ReadAsync(cancellationToken);

    public override bool TryRead(out ReadResult result)
    {
        if (_holding)
        {
            result = held;
            return true;
        }

        return inner.TryRead(out result);
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (_holding)
        {
            _holding = false;
            var buffer = held.Buffer;
            if (buffer.Slice(buffer.Start, examined).Length < examinedBefore)
            {
                examined = buffer.GetPosition(examinedBefore);
            }
        }

        inner.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
}
