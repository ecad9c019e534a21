using System.Globalization;
using System.Text;

namespace AuditStream.Sinks.Elasticsearch;

/// <summary>An index name pattern such as <c>auditstream-%{yyyy.MM.dd}</c>, resolved per event.</summary>
internal sealed class IndexPattern
{
    private readonly string _pattern;
    private readonly bool _dated;
    private readonly bool _subDaily;
    private string? _lastName;
    private DateOnly _lastDay;

    public IndexPattern(string pattern)
    {
        _pattern = pattern;
        _dated = pattern.Contains("%{", StringComparison.Ordinal);
        var start = pattern.IndexOf("%{", StringComparison.Ordinal);
        Wildcard = start < 0 ? pattern : pattern[..start] + "*";
        var formats = start < 0 ? "" : pattern[start..];
        _subDaily = formats.IndexOfAny(['H', 'h', 'm', 's', 'f']) >= 0;
    }

    /// <summary>The pattern with its date part replaced by <c>*</c>, for the index template.</summary>
    public string Wildcard { get; }

    /// <summary>The index for an event committed at <paramref name="at"/>.</summary>
    public string Resolve(DateTimeOffset at)
    {
        if (!_dated)
        {
            return _pattern;
        }

        // Consecutive events are nearly always of the same day; formats finer than a day are resolved every time.
        var utc = at.UtcDateTime;
        var day = DateOnly.FromDateTime(utc);
        if (_lastName is not null && _lastDay == day && !_subDaily)
        {
            return _lastName;
        }

        var name = Format(utc);
        _lastName = name;
        _lastDay = day;
        return name;
    }

    private string Format(DateTime utc)
    {
        var result = new StringBuilder(_pattern.Length + 8);
        var i = 0;
        while (i < _pattern.Length)
        {
            var open = _pattern.IndexOf("%{", i, StringComparison.Ordinal);
            var close = open < 0 ? -1 : _pattern.IndexOf('}', open);
            if (open < 0 || close < 0)
            {
                result.Append(_pattern, i, _pattern.Length - i);
                break;
            }

            result.Append(_pattern, i, open - i);
            result.Append(utc.ToString(_pattern[(open + 2)..close], CultureInfo.InvariantCulture));
            i = close + 1;
        }

        return result.ToString();
    }
}
