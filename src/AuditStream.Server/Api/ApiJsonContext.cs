using System.Text.Json.Serialization;
using AuditStream.Events;

namespace AuditStream.Server.Api;

/// <summary>Where an ingested event landed.</summary>
public sealed record IngestReceipt(int Index, Guid Id, long Seq, string Hash, DateTimeOffset Timestamp, bool Duplicate);

/// <summary>The answer to an array or NDJSON ingest: one receipt per event, in request order.</summary>
public sealed record IngestResponse(IReadOnlyList<IngestReceipt> Events);

/// <summary>One page of <c>GET /api/v1/events</c>.</summary>
/// <param name="Events">Matching events in seq order.</param>
/// <param name="Next">Link to the next page, or null when every matching event up to <paramref name="LastSeq"/> was returned.</param>
/// <param name="Cursor">The seq to pass as <c>since_seq</c> to continue (also when <paramref name="Next"/> is null, to poll for new events).</param>
/// <param name="LastSeq">The ledger's last seq when the page was read.</param>
public sealed record EventPage(IReadOnlyList<AuditEvent> Events, string? Next, long Cursor, long LastSeq);

/// <summary>An RFC 9162 inclusion proof, hashes in lower-case hex.</summary>
public sealed record InclusionProofResponse(long Seq, long LeafIndex, long TreeSize, string EventHash, string LeafHash, string RootHash, IReadOnlyList<string> Hashes);

/// <summary>An RFC 9162 consistency proof, hashes in lower-case hex.</summary>
public sealed record ConsistencyProofResponse(long From, long To, string FromRoot, string ToRoot, IReadOnlyList<string> Hashes);

/// <summary>One validation failure in a problem details body.</summary>
public sealed record ProblemError(int? Index, string Field, string Rule);

/// <summary>Source-generated JSON for the HTTP API (snake_case, nulls omitted).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(IngestReceipt))]
[JsonSerializable(typeof(IngestResponse))]
[JsonSerializable(typeof(EventPage))]
[JsonSerializable(typeof(AuditEvent))]
[JsonSerializable(typeof(InclusionProofResponse))]
[JsonSerializable(typeof(ConsistencyProofResponse))]
[JsonSerializable(typeof(ProblemError[]))]
[JsonSerializable(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails))]
[JsonSerializable(typeof(Microsoft.AspNetCore.Http.HttpValidationProblemDetails))]
public sealed partial class ApiJsonContext : JsonSerializerContext;
