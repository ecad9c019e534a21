namespace AuditStream.Ledger;

/// <summary>The store does not hold what the ledger's invariants say it must (rows missing or altered): run <c>auditstream verify</c>.</summary>
public sealed class LedgerCorruptException : Exception
{
    public LedgerCorruptException()
    {
    }

    public LedgerCorruptException(string message)
        : base(message + " Run `auditstream verify` to locate the damage.")
    {
    }

    public LedgerCorruptException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
