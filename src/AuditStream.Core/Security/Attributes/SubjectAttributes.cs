namespace AuditStream.Security.Attributes;

/// <summary>The caller's attributes as rules see them: each claim name with all its values (a JSON array claim gives several).</summary>
public sealed class SubjectAttributes
{
    private readonly Dictionary<string, string[]> _values;

    /// <summary>Attributes from <paramref name="claims"/> (name, value pairs; repeated names collect their values).</summary>
    public SubjectAttributes(IEnumerable<KeyValuePair<string, string>> claims)
    {
        ArgumentNullException.ThrowIfNull(claims);
        _values = claims.GroupBy(c => c.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(c => c.Value).Distinct(StringComparer.Ordinal).ToArray(), StringComparer.Ordinal);
    }

    /// <summary>Every attribute and its values.</summary>
    public IReadOnlyDictionary<string, string[]> Values => _values;

    /// <summary>The values of claim <paramref name="name"/>; empty when absent.</summary>
    public IReadOnlyList<string> Get(string name) => _values.TryGetValue(name, out var values) ? values : [];
}
