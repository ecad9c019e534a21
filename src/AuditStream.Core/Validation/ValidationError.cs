namespace AuditStream.Validation;

/// <summary>An expected input failure: which field broke which rule, e.g. <c>severity</c> / <c>must be one of critical, error, warning, info</c>.</summary>
/// <param name="Field">JSON path of the field (<c>severity</c>, <c>metadata.a.b</c>, <c>source.ip</c>).</param>
/// <param name="Rule">The rule that was broken, as a sentence fragment that follows the field name.</param>
public readonly record struct ValidationError(string Field, string Rule)
{
    /// <inheritdoc />
    public override string ToString() => $"{Field} {Rule}";
}
