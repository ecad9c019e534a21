namespace AuditStream.Ledger;

/// <summary>The ledger could not durably commit (disk full, file read-only, I/O error); the append was not written and may be retried.</summary>
public sealed class LedgerUnavailableException : Exception
{
    public LedgerUnavailableException()
    {
    }

    public LedgerUnavailableException(string message)
        : base(message)
    {
    }

    public LedgerUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
