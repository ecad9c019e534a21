namespace AuditStream.Ledger.Cluster;

/// <summary>
/// A commit was refused because this instance does not hold the ledger's current leader term (another instance was
/// elected, or this one never was): nothing was written. The writer steps down and follows the ledger; the append may be
/// sent to the leader.
/// </summary>
public sealed class LedgerFencedException : Exception
{
    public LedgerFencedException()
    {
    }

    public LedgerFencedException(string message)
        : base(message)
    {
    }

    public LedgerFencedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
