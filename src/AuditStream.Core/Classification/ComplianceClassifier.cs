using System.Collections.ObjectModel;
using AuditStream.Events;
using AuditStream.Validation;

namespace AuditStream.Classification;

/// <summary>
/// Adds compliance tags to events by type and category (DESIGN.md §3). Rules are compiled once into dictionaries,
/// so classifying costs a few hash lookups and allocates nothing when the result is one rule's tags or the producer's own.
/// </summary>
public sealed class ComplianceClassifier
{
    private readonly Dictionary<string, string[]> _byExactType = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string[]> _byTypePrefix = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string[]> _byCategory = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Pattern, string Category), string[]> _byTypeAndCategory = [];
    private readonly Dictionary<string, string[]>.AlternateLookup<ReadOnlySpan<char>> _prefixLookup;
    private readonly Dictionary<string[], ReadOnlyCollection<string>> _sharedByTags = new(ReferenceEqualityComparer.Instance);

    /// <summary>Compiles the rules of <paramref name="options"/>; throws <see cref="ArgumentException"/> naming a bad rule.</summary>
    public ComplianceClassifier(ClassifierOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var rules = options.IncludeDefaultRules ? ClassifierOptions.DefaultRules.Concat(options.Rules) : options.Rules;
        var index = 0;
        foreach (var rule in rules)
        {
            Add(rule, index++);
        }

        _prefixLookup = _byTypePrefix.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var tags in _byExactType.Values.Concat(_byTypePrefix.Values).Concat(_byCategory.Values).Concat(_byTypeAndCategory.Values))
        {
            _sharedByTags.TryAdd(tags, Array.AsReadOnly(tags));
        }
    }

    /// <summary>
    /// The event's compliance tags: the producer's tags and those of every matching rule, lower-case, without duplicates,
    /// in ordinal order. The result may be shared between calls and must not be modified.
    /// </summary>
    public IReadOnlyList<string> Classify(AuditEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        string[]? single = null;
        List<string[]>? several = null;
        var type = e.Type;
        var category = e.Category;

        if (type is not null)
        {
            if (_byExactType.TryGetValue(type, out var exact))
            {
                Collect(exact, ref single, ref several);
            }

            if (_byTypePrefix.Count > 0)
            {
                // Every "x." prefix of the type, shortest first: consent.granted.v2 → consent., consent.granted.
                for (var dot = type.IndexOf('.', StringComparison.Ordinal); dot >= 0; dot = type.IndexOf('.', dot + 1))
                {
                    if (_prefixLookup.TryGetValue(type.AsSpan(0, dot + 1), out var byPrefix))
                    {
                        Collect(byPrefix, ref single, ref several);
                    }
                }
            }
        }

        if (category is not null && _byCategory.TryGetValue(category, out var byCategory))
        {
            Collect(byCategory, ref single, ref several);
        }

        if (_byTypeAndCategory.Count > 0 && type is not null && category is not null)
        {
            foreach (var ((pattern, ruleCategory), tags) in _byTypeAndCategory)
            {
                if (string.Equals(ruleCategory, category, StringComparison.Ordinal) && TypeMatches(pattern, type))
                {
                    Collect(tags, ref single, ref several);
                }
            }
        }

        var produced = e.Compliance;
        if (produced is null || produced.Count == 0)
        {
            return several is null ? single is null ? [] : _sharedByTags[single] : Merge(null, several);
        }

        if (several is null && IsNormalizedSuperset(produced, single))
        {
            return produced;
        }

        several ??= single is null ? [] : [single];
        return Merge(produced, several);
    }

    private void Add(ComplianceRule rule, int index)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var where = $"Compliance rule {index} ({rule.TypePattern ?? rule.Category})";
        if (rule.TypePattern is null && rule.Category is null)
        {
            throw new ArgumentException($"{where} needs a TypePattern or a Category.", nameof(rule));
        }

        if (rule.TypePattern is { } pattern && !IsValidPattern(pattern))
        {
            throw new ArgumentException($"{where}: TypePattern '{pattern}' must be an event type like call.initiated or a prefix like consent.*.", nameof(rule));
        }

        if (rule.Category is { } category && !EventRules.IsCategory(category))
        {
            throw new ArgumentException($"{where}: Category '{category}' {EventRules.CategoryRule}.", nameof(rule));
        }

        var tags = Normalize(rule.Tags);
        foreach (var tag in tags)
        {
            if (!EventRules.IsTag(tag))
            {
                throw new ArgumentException($"{where}: tag '{tag}' {EventRules.TagRule}.", nameof(rule));
            }
        }

        if (rule.TypePattern is { } typePattern && rule.Category is { } ruleCategory)
        {
            AddTo(_byTypeAndCategory, (typePattern, ruleCategory), tags);
        }
        else if (rule.TypePattern is { } onlyPattern)
        {
            if (onlyPattern.EndsWith(".*", StringComparison.Ordinal))
            {
                AddTo(_byTypePrefix, onlyPattern[..^1], tags);
            }
            else
            {
                AddTo(_byExactType, onlyPattern, tags);
            }
        }
        else
        {
            AddTo(_byCategory, rule.Category!, tags);
        }
    }

    private static void AddTo<TKey>(Dictionary<TKey, string[]> map, TKey key, string[] tags)
        where TKey : notnull
    {
        map[key] = map.TryGetValue(key, out var existing) ? Normalize([.. existing, .. tags]) : tags;
    }

    private static bool IsValidPattern(string pattern) =>
        pattern.EndsWith(".*", StringComparison.Ordinal) ? EventRules.IsType(pattern.AsSpan(0, pattern.Length - 2)) : EventRules.IsType(pattern);

    private static bool TypeMatches(string pattern, string type) =>
        pattern.EndsWith(".*", StringComparison.Ordinal)
            ? type.Length > pattern.Length - 1 && type.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal)
            : string.Equals(pattern, type, StringComparison.Ordinal);

    private static void Collect(string[] tags, ref string[]? single, ref List<string[]>? several)
    {
        if (single is null)
        {
            single = tags;
        }
        else if (!ReferenceEquals(single, tags))
        {
            several ??= [single];
            several.Add(tags);
        }
    }

    /// <summary>True when <paramref name="produced"/> is already lower-case, strictly ordered and contains every rule tag.</summary>
    private static bool IsNormalizedSuperset(IReadOnlyList<string> produced, string[]? ruleTags)
    {
        for (var i = 0; i < produced.Count; i++)
        {
            var tag = produced[i];
            if (tag is null || !IsLowerCase(tag) || (i > 0 && string.CompareOrdinal(produced[i - 1], tag) >= 0))
            {
                return false;
            }
        }

        if (ruleTags is not null)
        {
            foreach (var tag in ruleTags)
            {
                if (!Contains(produced, tag))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static bool Contains(IReadOnlyList<string> sorted, string tag)
    {
        for (var i = 0; i < sorted.Count; i++)
        {
            if (string.Equals(sorted[i], tag, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsLowerCase(string value)
    {
        foreach (var c in value)
        {
            if (char.IsUpper(c))
            {
                return false;
            }
        }

        return true;
    }

    private static string[] Merge(IReadOnlyList<string>? produced, List<string[]> ruleTags)
    {
        var all = new List<string>();
        if (produced is not null)
        {
            foreach (var tag in produced)
            {
                if (!string.IsNullOrEmpty(tag))
                {
                    all.Add(tag);
                }
            }
        }

        foreach (var tags in ruleTags)
        {
            all.AddRange(tags);
        }

        return Normalize(all);
    }

    private static string[] Normalize(IEnumerable<string> tags)
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            set.Add(tag.ToLowerInvariant());
        }

        return [.. set];
    }
}
