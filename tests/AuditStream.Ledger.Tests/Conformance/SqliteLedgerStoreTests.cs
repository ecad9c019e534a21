using AuditStream.Ledger.Sqlite;
using AuditStream.Ledger.Storage;
using AuditStream.Ledger.Tests.Support;

namespace AuditStream.Ledger.Tests.Conformance;

public sealed class SqliteLedgerStoreTests : LedgerStoreConformanceTests, IDisposable
{
    private readonly TempDirectory _dir = new();

    protected override ILedgerStore OpenStore() => new SqliteLedgerStore(_dir.File("ledger.db"));

    public void Dispose() => _dir.Dispose();
}
