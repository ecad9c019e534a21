namespace AuditStream.Privacy.Detection;

/// <summary>Detections of one screening, by detector and the action taken (for metrics).</summary>
public sealed class PiiTally
{
    private readonly int[] _counts = new int[PiiKinds.Count * 4];

    /// <summary>True when nothing was detected.</summary>
    public bool IsEmpty { get; private set; } = true;

    /// <summary>Detections of <paramref name="kind"/> handled with <paramref name="action"/>.</summary>
    public int this[PiiKind kind, PiiAction action] => _counts[((int)kind * 4) + (int)action];

    internal void Add(PiiKind kind, PiiAction action)
    {
        _counts[((int)kind * 4) + (int)action]++;
        IsEmpty = false;
    }
}
