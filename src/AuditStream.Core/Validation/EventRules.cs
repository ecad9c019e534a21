namespace AuditStream.Validation;

/// <summary>The syntax of event types, categories, severities and tags, shared by event and filter validation (DESIGN.md §3).</summary>
internal static class EventRules
{
    public const int MaxTypeLength = 128;
    public const int MaxCategoryLength = 64;
    public const int MaxTagLength = 32;

    public const string TypeRule = "must be a dotted lower-case name like consent.granted (letters, digits, _ and -, segments separated by dots, at most 128 chars)";
    public const string CategoryRule = "must be lower-case letters, digits, _ or - (at most 64 chars)";
    public const string SeverityRule = "must be one of critical, error, warning, info";
    public const string OutcomeRule = "must be one of success, failure";
    public const string TagRule = "must be a lower-case tag (letters, digits, _ or -, at most 32 chars)";
    public const string Required = "is required";
    public const string NotEmpty = "must not be empty";
    public const string NoControlCharacters = "must not contain control characters";

    /// <summary>Severities from the most to the least severe.</summary>
    public static readonly string[] Severities = ["critical", "error", "warning", "info"];

    public static bool IsSeverity(string? value) => value is "critical" or "error" or "warning" or "info";

    public static bool IsOutcome(string? value) => value is "success" or "failure";

    /// <summary>One or more non-empty segments of <c>[a-z0-9_-]</c> separated by single dots.</summary>
    public static bool IsType(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty || value.Length > MaxTypeLength || value[0] == '.' || value[^1] == '.')
        {
            return false;
        }

        var previousWasDot = false;
        foreach (var c in value)
        {
            if (c == '.')
            {
                if (previousWasDot)
                {
                    return false;
                }

                previousWasDot = true;
            }
            else if (IsNameChar(c))
            {
                previousWasDot = false;
            }
            else
            {
                return false;
            }
        }

        return true;
    }

    public static bool IsCategory(ReadOnlySpan<char> value) => IsName(value, MaxCategoryLength);

    public static bool IsTag(ReadOnlySpan<char> value) => IsName(value, MaxTagLength);

    public static bool HasControlCharacter(ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Checks a free identifier: non-empty, bounded, no control characters (they enable log injection in downstream tools).</summary>
    public static void CheckIdentifier(string field, string? value, int maxLength, List<ValidationError> errors)
    {
        if (value is null)
        {
            return;
        }

        if (value.Length == 0)
        {
            errors.Add(new(field, NotEmpty));
        }
        else if (value.Length > maxLength)
        {
            errors.Add(new(field, $"must be at most {maxLength} characters"));
        }
        else if (HasControlCharacter(value))
        {
            errors.Add(new(field, NoControlCharacters));
        }
    }

    private static bool IsName(ReadOnlySpan<char> value, int maxLength)
    {
        if (value.IsEmpty || value.Length > maxLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!IsNameChar(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsNameChar(char c) => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-';
}
