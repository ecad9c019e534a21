namespace AuditStream.Ledger.Storage;

/// <summary>A committed event found by its <see cref="EventKey"/>: its receipt, and its stored body to compare a re-sent event with.</summary>
/// <param name="Receipt">Where the event is.</param>
/// <param name="Body">Its canonical body as hashed.</param>
public sealed record IdMatch(AppendReceipt Receipt, byte[] Body);
