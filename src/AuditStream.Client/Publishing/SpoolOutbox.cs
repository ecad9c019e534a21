using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using AuditStream.Events;
using Microsoft.Extensions.Logging;

namespace AuditStream.Client.Publishing;

/// <summary>
/// An outbox on disk: every event is appended as one NDJSON line to the newest segment file (written through to the
/// operating system, so it survives the process being killed), and segments are drained oldest-first and deleted once
/// the server committed every event in them. Bounded by <see cref="AuditStreamClientOptions.MaxSpoolBytes"/>.
/// </summary>
/// <remarks>
/// After a crash the segment being sent is sent again from its start; the server answers events whose id it already
/// has with the original record, so a re-send never duplicates an event. A line cut short by a crash is skipped.
/// </remarks>
internal sealed partial class SpoolOutbox : IOutbox
{
    private const string Extension = ".ndjson";

    private readonly string _directory;
    private readonly long _maxBytes;
    private readonly long _segmentBytes;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Queue<string> _sealed = new();
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    private long _totalBytes;
    private long _nextNumber;
    private FileStream? _writer;
    private string? _writerPath;
    private long _writerBytes;
    private int _writerEvents;
    private bool _completed;

    // Sender side only.
    private StreamReader? _reader;
    private string? _readerPath;
    private long _readerSize;
    private long _readerAcknowledged;
    private long _inflightBytes;

    public SpoolOutbox(string directory, long maxBytes, long segmentBytes, ILogger logger)
    {
        _directory = Path.GetFullPath(directory);
        _maxBytes = maxBytes;
        _segmentBytes = segmentBytes;
        _logger = logger;
        Directory.CreateDirectory(_directory);

        // Segments left by an earlier run (or a killed one) are sent first, in the order they were written.
        var existing = Directory.GetFiles(_directory, "*" + Extension)
            .Select(path => (Path: path, Number: long.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1))
            .Where(x => x.Number >= 0)
            .OrderBy(x => x.Number)
            .ToList();
        foreach (var (path, number) in existing)
        {
            _sealed.Enqueue(path);
            _totalBytes += new FileInfo(path).Length;
            _nextNumber = number + 1;
        }

        if (existing.Count > 0)
        {
            Log.Recovered(_logger, existing.Count, _totalBytes, _directory);
        }
    }

    // Acknowledgements must come in read order: the reader's position in a segment is the bookkeeping.
    public int MaxReaders => 1;

    public bool IsEmpty
    {
        get
        {
            lock (_lock)
            {
                return _totalBytes == 0;
            }
        }
    }

    public bool TryAdd(AuditEvent auditEvent)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(auditEvent, AuditJsonContext.Default.AuditEvent);
        var length = json.Length + 1;
        lock (_lock)
        {
            if (_completed || _totalBytes + length > _maxBytes)
            {
                return false;
            }

            if (_writer is null)
            {
                _writerPath = Path.Combine(_directory, _nextNumber++.ToString("D16", CultureInfo.InvariantCulture) + Extension);

                // Unbuffered: each event is one write(2), in the OS's hands before Enqueue returns.
                _writer = new FileStream(_writerPath, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0);
                _writerBytes = 0;
                _writerEvents = 0;
            }

            var line = new byte[length];
            json.CopyTo(line, 0);
            line[^1] = (byte)'\n';
            _writer.Write(line);
            _writerBytes += length;
            _writerEvents++;
            _totalBytes += length;
            if (_writerBytes >= _segmentBytes)
            {
                SealLocked();
            }
        }

        _signal.Writer.TryWrite(true);
        return true;
    }

    public async ValueTask<IReadOnlyList<AuditEvent>> ReadBatchAsync(int max, TimeSpan linger, CancellationToken cancellationToken)
    {
        var lingered = false;
        while (true)
        {
            if (_reader is null && !TryOpenNextSegment(max, lingered, out var lingerFirst, out var done))
            {
                if (done)
                {
                    return [];
                }

                if (lingerFirst)
                {
                    await Task.Delay(linger, cancellationToken).ConfigureAwait(false);
                    lingered = true;
                }
                else
                {
                    await _signal.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
                    _signal.Reader.TryRead(out _);
                }

                continue;
            }

            var batch = new List<AuditEvent>(Math.Min(max, 256));
            _inflightBytes = 0;
            while (batch.Count < max && await _reader!.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                _inflightBytes += Encoding.UTF8.GetByteCount(line) + 1;
                if (line.Length == 0)
                {
                    continue;
                }

                try
                {
                    if (JsonSerializer.Deserialize(line, AuditJsonContext.Default.AuditEvent) is { } e)
                    {
                        batch.Add(e);
                    }
                }
                catch (JsonException)
                {
                    // Only a write cut short by a crash leaves a bad line; what follows it is intact.
                    Log.SkippedLine(_logger, _readerPath!);
                }
            }

            if (batch.Count > 0)
            {
                return batch;
            }

            FinishSegment();
            lingered = false;
        }
    }

    public void Acknowledge(int count)
    {
        lock (_lock)
        {
            _totalBytes -= _inflightBytes;
        }

        _readerAcknowledged += _inflightBytes;
        _inflightBytes = 0;

        // Delete a fully sent segment now, so that the spool reads as empty the moment its last batch is acknowledged.
        if (_reader is not null && _reader.EndOfStream)
        {
            FinishSegment();
        }
    }

    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
        }

        _signal.Writer.TryWrite(true);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _completed = true;
            _writer?.Dispose();
            _writer = null;
        }

        _reader?.Dispose();
        _reader = null;
    }

    private bool TryOpenNextSegment(int max, bool lingered, out bool lingerFirst, out bool done)
    {
        lingerFirst = false;
        done = false;
        string path;
        lock (_lock)
        {
            if (_sealed.Count == 0)
            {
                if (_writerEvents == 0)
                {
                    done = _completed;
                    return false;
                }

                // A partly filled newest segment waits for the linger, so one request carries what arrives meanwhile.
                if (_writerEvents < max && !lingered && !_completed)
                {
                    lingerFirst = true;
                    return false;
                }

                SealLocked();
            }

            path = _sealed.Dequeue();
        }

        _readerPath = path;
        _readerSize = new FileInfo(path).Length;
        _readerAcknowledged = 0;
        _reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024), Encoding.UTF8);
        return true;
    }

    private void FinishSegment()
    {
        _reader!.Dispose();
        _reader = null;
        File.Delete(_readerPath!);
        lock (_lock)
        {
            // Whatever was not acknowledged line by line (blank or cut-short lines) leaves with the file.
            _totalBytes = Math.Max(0, _totalBytes - (_readerSize - _readerAcknowledged));
        }

        _inflightBytes = 0;
        _readerPath = null;
    }

    private void SealLocked()
    {
        if (_writer is null)
        {
            return;
        }

        _writer.Dispose();
        _writer = null;
        _sealed.Enqueue(_writerPath!);
        _writerEvents = 0;
        _writerBytes = 0;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Spool {Directory}: {Segments} segment(s), {Bytes} bytes left by an earlier run will be sent first.", EventName = "SpoolRecovered")]
        public static partial void Recovered(ILogger logger, int segments, long bytes, string directory);

        [LoggerMessage(2, LogLevel.Warning, "Spool segment {Path}: skipped a line that is not an event (a write cut short by a crash).", EventName = "SpoolSkippedLine")]
        public static partial void SkippedLine(ILogger logger, string path);
    }
}
