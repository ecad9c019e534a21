using System.Text.Json.Serialization;

namespace AuditStream.Server.Bundles;

/// <summary>
/// An offline audit bundle (<c>auditstream bundle</c>, checked by <c>auditstream verify --bundle</c>): events as hashed,
/// the signed checkpoints (with any cosignatures), one RFC 9162 inclusion proof per event against the largest checkpoint
/// and a consistency proof between each pair of consecutive checkpoints, so that nothing but the key is needed to check it.
/// </summary>
/// <param name="Format">Always <see cref="FormatV1"/>.</param>
/// <param name="Origin">The log's origin (the checkpoints' first line and the signing key's name).</param>
/// <param name="VerifierKey">The note verifier key the ledger signs with, as the bundler found it: pin your own with <c>--key</c>.</param>
/// <param name="CreatedAt">When the bundle was written.</param>
/// <param name="FromSeq">First seq of the range (inclusive).</param>
/// <param name="ToSeq">Last seq of the range (inclusive); at most the largest checkpoint's size.</param>
/// <param name="Filter">The filter and tenant the events were selected by (query-string form), or null when every event of the range is in the bundle.</param>
/// <param name="Checkpoints">Signed notes by ascending tree size; the proofs are against the last.</param>
/// <param name="Consistency">Consistency proofs between <see cref="Checkpoints"/>[i] and [i+1].</param>
/// <param name="Events">The events by ascending seq.</param>
internal sealed record AuditBundle(
    string Format,
    string Origin,
    string VerifierKey,
    DateTimeOffset CreatedAt,
    long FromSeq,
    long ToSeq,
    string? Filter,
    IReadOnlyList<string> Checkpoints,
    IReadOnlyList<BundleConsistency> Consistency,
    IReadOnlyList<BundleEvent> Events)
{
    /// <summary>The format this version writes and reads.</summary>
    public const string FormatV1 = "auditstream-bundle/v1";
}

/// <summary>An RFC 9162 consistency proof between two checkpoints of the bundle, hashes in lower-case hex.</summary>
internal sealed record BundleConsistency(long From, long To, IReadOnlyList<string> Hashes);

/// <summary>
/// One event: <paramref name="Body"/> is the RFC 8785 canonical JSON exactly as hashed (pii as its stored, encrypted
/// envelope), <c>hash = SHA-256(prev_hash ‖ UTF-8(body))</c>; <paramref name="Proof"/> is its inclusion proof
/// (leaf index seq − 1) in the tree of the bundle's last checkpoint.
/// </summary>
internal sealed record BundleEvent(long Seq, string Body, string PrevHash, string Hash, IReadOnlyList<string> Proof);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(AuditBundle))]
internal sealed partial class AuditBundleJsonContext : JsonSerializerContext;
