using System.Globalization;
using System.Text.Json;

namespace AuditStream.Filters;

/// <summary>A predicate operand with its number and instant readings computed once, at compile time.</summary>
internal sealed class FilterValue
{
    private FilterValue(string text, double? number, DateTimeOffset? instant)
    {
        Text = text;
        IsNumber = number is not null;
        Number = number ?? 0;
        IsInstant = instant is not null;
        Instant = instant ?? default;
    }

    /// <summary>String content, JSON number text, or <c>true</c>/<c>false</c>.</summary>
    public string Text { get; }

    public bool IsNumber { get; }

    public double Number { get; }

    public bool IsInstant { get; }

    public DateTimeOffset Instant { get; }

    public static FilterValue From(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                var text = element.GetString()!;
                double? number = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && double.IsFinite(parsed) ? parsed : null;
                DateTimeOffset? instant = element.TryGetDateTimeOffset(out var at) ? at : null;
                return new(text, number, instant);
            case JsonValueKind.Number:
                return new(element.GetRawText(), element.TryGetDouble(out var value) ? value : null, null);
            case JsonValueKind.True:
                return new("true", null, null);
            case JsonValueKind.False:
                return new("false", null, null);
            default:
                throw new ArgumentException($"A filter value must be a string, number or boolean, not {element.ValueKind}.", nameof(element));
        }
    }
}
