using System.Text.Json.Serialization;
using AuditStream.Ledger;
using AuditStream.Ledger.Storage;
using AuditStream.Ledger.Writing;
using AuditStream.Validation;

namespace AuditStream.Server.Cluster;

/// <summary>
/// The leader's answer to a server-internal append a follower forwarded (<see cref="ClusterCredential.InternalShape"/>):
/// the <see cref="LedgerAppendResult"/> itself, so the follower's caller sees what the leader's own caller would.
/// </summary>
internal sealed record InternalAppendResponse(AppendStatus? Status, InternalReceipt[] Events, InternalConflict[] Conflicts, InternalError[] Errors)
{
    public static InternalAppendResponse From(LedgerAppendResult result) => new(
        result.Append?.Status,
        result.Append is { } append ? [.. append.Events.Select(static e => InternalReceipt.From(e.Receipt, e.WasDuplicate))] : [],
        result.Append is { } refused ? [.. refused.Conflicts.Select(static c => new InternalConflict(c.Index, c.Existing is { } r ? InternalReceipt.From(r, false) : null))] : [],
        [.. result.Errors.Select(static e => new InternalError(e.Index, e.Error.Field, e.Error.Rule))]);

    public LedgerAppendResult ToResult()
    {
        if (Status is not { } status)
        {
            return new LedgerAppendResult(null, [.. Errors.Select(static e => new IndexedValidationError(e.Index, new ValidationError(e.Field, e.Rule)))]);
        }

        return new LedgerAppendResult(
            new AppendResult(status, [.. Events.Select(static e => new AppendedEvent(e.ToReceipt(), e.Duplicate))])
            {
                Conflicts = [.. Conflicts.Select(static c => new IdConflict(c.Index, c.Existing?.ToReceipt()))],
            },
            []);
    }
}

/// <summary>An <see cref="AppendReceipt"/> on the wire, the hash in lower-case hex.</summary>
internal sealed record InternalReceipt(Guid Id, long Seq, long TimestampMicros, string Hash, bool Duplicate)
{
    public static InternalReceipt From(AppendReceipt receipt, bool duplicate) => new(receipt.Id, receipt.Seq, receipt.TimestampMicros, receipt.HashHex, duplicate);

    public AppendReceipt ToReceipt() => new(Id, Seq, TimestampMicros, Convert.FromHexString(Hash));
}

/// <summary>An <see cref="IdConflict"/> on the wire.</summary>
internal sealed record InternalConflict(int Index, InternalReceipt? Existing);

/// <summary>An <see cref="IndexedValidationError"/> on the wire.</summary>
internal sealed record InternalError(int Index, string Field, string Rule);

/// <summary>Source-generated JSON for <see cref="InternalAppendResponse"/>.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, UseStringEnumConverter = true)]
[JsonSerializable(typeof(InternalAppendResponse))]
internal sealed partial class ClusterJsonContext : JsonSerializerContext;
