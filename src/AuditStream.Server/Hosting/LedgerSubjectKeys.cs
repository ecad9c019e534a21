using AuditStream.Privacy;

namespace AuditStream.Server.Hosting;

/// <summary>
/// The open ledger's subject keys, for what is built before the ledger opens (the stream hub, sinks): every call goes
/// to <see cref="AuditStream.Ledger.AuditLedger.SubjectKeys"/>.
/// </summary>
internal sealed class LedgerSubjectKeys(LedgerService ledgers) : ISubjectKeys
{
    public long Generation => ledgers.IsOpen ? ledgers.Ledger.SubjectKeys.Generation : 0;

    public DataKey GetOrCreate(string tenantId, string subjectId) => ledgers.Ledger.SubjectKeys.GetOrCreate(tenantId, subjectId);

    public DataKey? Find(string keyId) => ledgers.Ledger.SubjectKeys.Find(keyId);
}
