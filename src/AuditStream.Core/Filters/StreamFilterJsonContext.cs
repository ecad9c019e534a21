using System.Text.Json.Serialization;

namespace AuditStream.Filters;

/// <summary>Source-generated JSON metadata for <see cref="StreamFilter"/> on the wire (snake_case, unknown members rejected).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    MaxDepth = 16)]
[JsonSerializable(typeof(StreamFilter))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
public sealed partial class StreamFilterJsonContext : JsonSerializerContext;
