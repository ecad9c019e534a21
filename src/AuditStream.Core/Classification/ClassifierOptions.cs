namespace AuditStream.Classification;

/// <summary>Which compliance tags <see cref="ComplianceClassifier"/> adds to events, by type or category.</summary>
public sealed class ClassifierOptions
{
    /// <summary>
    /// The built-in rules: <c>consent.*</c> → gdpr, tcpa; <c>call.*</c> → tcpa; <c>data.*</c> → gdpr; category <c>financial</c> → sox.
    /// </summary>
    public static IReadOnlyList<ComplianceRule> DefaultRules { get; } =
    [
        new() { TypePattern = "consent.*", Tags = ["gdpr", "tcpa"] },
        new() { TypePattern = "call.*", Tags = ["tcpa"] },
        new() { TypePattern = "data.*", Tags = ["gdpr"] },
        new() { Category = "financial", Tags = ["sox"] },
    ];

    /// <summary>Whether <see cref="DefaultRules"/> apply in addition to <see cref="Rules"/>.</summary>
    /// <value>Default true.</value>
    public bool IncludeDefaultRules { get; set; } = true;

    /// <summary>Additional rules, e.g. from configuration; a separate list (rather than a pre-filled one) because the
    /// configuration binder appends to lists instead of replacing them.</summary>
    /// <value>Default empty.</value>
    public IList<ComplianceRule> Rules { get; init; } = [];
}
