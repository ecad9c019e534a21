namespace AuditStream.Server.Witnessing;

/// <summary>What the server knows of one witness, read by the metrics, <c>/ready</c> and the checkpoint endpoints.</summary>
internal sealed class WitnessStatus(string name, Uri url)
{
    private readonly Lock _gate = new();
    private long _submitted;
    private long _failed;
    private long _cosignedSize;
    private string? _lastError;
    private string? _splitView;
    private int _consecutiveFailures;

    public string Name { get; } = name;

    public Uri Url { get; } = url;

    /// <summary>add-checkpoint requests sent.</summary>
    public long Submitted => Volatile.Read(ref _submitted);

    /// <summary>Submissions that ended without a cosignature (unreachable, timeout, refusal, bad cosignature).</summary>
    public long Failed => Volatile.Read(ref _failed);

    /// <summary>The largest tree size this witness cosigned for the server (0 before the first).</summary>
    public long CosignedSize => Volatile.Read(ref _cosignedSize);

    /// <summary>Failures since the last cosignature.</summary>
    public int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    /// <summary>Why the latest submission failed, or null after a cosignature.</summary>
    public string? LastError
    {
        get
        {
            lock (_gate)
            {
                return _lastError;
            }
        }
    }

    /// <summary>
    /// Set when the witness refused a checkpoint as inconsistent with what it cosigned before (422): it has seen a
    /// different tree. Stays set for the life of the process; only an operator can say which history is the real one.
    /// </summary>
    public string? SplitView
    {
        get
        {
            lock (_gate)
            {
                return _splitView;
            }
        }
    }

    public void CountSubmission() => Interlocked.Increment(ref _submitted);

    public void Cosigned(long treeSize)
    {
        lock (_gate)
        {
            _cosignedSize = Math.Max(_cosignedSize, treeSize);
            _lastError = null;
            _consecutiveFailures = 0;
        }
    }

    public void Failure(string error)
    {
        Interlocked.Increment(ref _failed);
        lock (_gate)
        {
            _lastError = error;
            _consecutiveFailures++;
        }
    }

    public void Conflict(string detail)
    {
        Failure(detail);
        lock (_gate)
        {
            _splitView ??= detail;
        }
    }
}
