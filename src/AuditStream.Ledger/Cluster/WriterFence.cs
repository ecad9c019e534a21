namespace AuditStream.Ledger.Cluster;

/// <summary>
/// The leader term this instance may commit under (0: none). Every commit of a shared ledger compares it with the
/// leader row inside the commit transaction, so an ex-leader that was paused or partitioned while another instance was
/// elected writes nothing, whatever it still believes.
/// </summary>
public sealed class WriterFence
{
    private long _term;

    /// <summary>The term commits are made under; 0 while this instance is not the leader.</summary>
    public long Term => Volatile.Read(ref _term);

    /// <summary>True while this instance holds a term.</summary>
    public bool IsHeld => Term != 0;

    /// <summary>Raised with the term when a commit found it over (another instance was elected): this instance stepped down.</summary>
    public event Action<long>? Revoked;

    internal void Hold(long term) => Volatile.Write(ref _term, term);

    /// <summary>A commit under <paramref name="term"/> was refused by the leader row: give it up and say so.</summary>
    internal void Revoke(long term)
    {
        if (Release(term))
        {
            Revoked?.Invoke(term);
        }
    }

    /// <summary>Gives the term up if it is still <paramref name="term"/>; true when it was.</summary>
    internal bool Release(long term) => Interlocked.CompareExchange(ref _term, 0, term) == term;
}
