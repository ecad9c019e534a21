using System.Text.Json.Serialization;

namespace AuditStream.Client;

internal sealed record IngestReceiptDto(int Index, Guid Id, long Seq, string Hash, DateTimeOffset Timestamp, bool Duplicate)
{
    public AuditReceipt ToReceipt() => new(Id, Seq, Hash, Timestamp, Duplicate);
}

internal sealed record IngestResponseDto(IReadOnlyList<IngestReceiptDto> Events);

internal sealed record InclusionProofDto(long Seq, long LeafIndex, long TreeSize, string EventHash, string LeafHash, string RootHash, IReadOnlyList<string> Hashes);

internal sealed record ProblemErrorDto(int? Index, string? Field, string? Rule);

internal sealed record ProblemDto(string? Title, string? Detail, IReadOnlyList<ProblemErrorDto>? Errors);

/// <summary>Source-generated JSON for the HTTP answers the SDK reads (snake_case, unknown members ignored for forward compatibility).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(IngestReceiptDto))]
[JsonSerializable(typeof(IngestResponseDto))]
[JsonSerializable(typeof(InclusionProofDto))]
[JsonSerializable(typeof(ProblemDto))]
internal sealed partial class ClientJsonContext : JsonSerializerContext;
