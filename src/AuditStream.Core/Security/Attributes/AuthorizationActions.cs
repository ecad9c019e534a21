namespace AuditStream.Security.Attributes;

/// <summary>What a caller does, as named in <see cref="AttributeRule.Actions"/>.</summary>
public static class AuthorizationActions
{
    /// <summary><c>GET /api/v1/events</c> and <c>GET /api/v1/events/{seq}</c>.</summary>
    public const string Query = "query";

    /// <summary><c>GET /api/v1/events/export</c>.</summary>
    public const string Export = "export";

    /// <summary>The live stream, <c>/ws/audit</c> and <c>/api/v1/stream</c>: connecting and every event delivered.</summary>
    public const string Subscribe = "subscribe";

    /// <summary>Inclusion and consistency proofs, and <c>?proof=true</c> reads.</summary>
    public const string Proof = "proof";

    /// <summary>The sink admin endpoints (<c>/api/v1/sinks…</c>); no event attributes.</summary>
    public const string SinksAdmin = "sinks-admin";

    /// <summary>Every action.</summary>
    public const string Any = "*";

    /// <summary>The actions a rule may name, <see cref="Any"/> aside.</summary>
    public static IReadOnlyList<string> All { get; } = [Query, Export, Subscribe, Proof, SinksAdmin];

    /// <summary>Whether <paramref name="action"/> is one of <see cref="All"/>.</summary>
    public static bool IsKnown(string? action) => action is not null && All.Contains(action, StringComparer.Ordinal);
}
