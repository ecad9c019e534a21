using System.Globalization;
using System.Text;
using System.Text.Json;

namespace AuditStream.Validation;

/// <summary>Turns a System.Text.Json deserialization failure into a <see cref="ValidationError"/> that names the field.</summary>
internal static class JsonErrors
{
    /// <summary>
    /// Maps <paramref name="exception"/>. <paramref name="prefix"/> (e.g. <c>filters</c>, or null) is put before the field path;
    /// <paramref name="documentName"/> names the whole document when the failure has no path.
    /// </summary>
    public static ValidationError FromException(JsonException exception, string? prefix, string documentName, Func<string, string?>? formatRule = null)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var relative = ToFieldPath(exception.Path);
        var field = relative.Length == 0 ? documentName : prefix is null ? relative : prefix + "." + relative;
        var message = exception.Message;

        // System.Text.Json reports its failure kinds only in messages; these fragments are stable across releases.
        if (message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
        {
            return new(field, "is not a known field");
        }

        if (exception.InnerException?.GetType().Name == "JsonReaderException" || exception.LineNumber is null && exception.Path is null)
        {
            if (message.Contains("maximum configured depth", StringComparison.Ordinal))
            {
                return new(field, "is nested too deeply");
            }

            return new(field, exception.LineNumber is { } line && exception.BytePositionInLine is { } position
                ? string.Create(CultureInfo.InvariantCulture, $"is not valid JSON (line {line + 1}, byte {position + 1})")
                : "is not valid JSON");
        }

        if (relative.Length == 0)
        {
            return new(field, "must be a JSON object");
        }

        if (exception.InnerException is FormatException)
        {
            return new(field, formatRule?.Invoke(relative) ?? "has the wrong format");
        }

        // RFC 8259 §8.1 and §8.2: text is UTF-8, and a \uD800-\uDFFF escape must be half of a pair.
        if (exception.InnerException is InvalidOperationException { Message: var inner })
        {
            if (inner.Contains("invalid UTF-8", StringComparison.Ordinal))
            {
                return new(field, "must be valid UTF-8");
            }

            if (inner.Contains("surrogate", StringComparison.Ordinal))
            {
                return new(field, "must not hold a lone surrogate (a \\uD800-\\uDFFF escape without its pair)");
            }
        }

        // RFC 8259 §4: names within an object should be unique; the ledger refuses duplicates rather than pick one.
        if (DuplicateKey(message) is { } key)
        {
            return new(field, relative == key || relative.EndsWith("." + key, StringComparison.Ordinal)
                ? "must appear only once in its object (duplicate key)"
                : $"must not hold the key '{key}' twice in one object (duplicate key)");
        }

        return new(field, "has the wrong JSON type");
    }

    /// <summary>The key of a "Duplicate property 'k' encountered…" failure, or null.</summary>
    private static string? DuplicateKey(string message)
    {
        const string Prefix = "Duplicate property '";
        if (!message.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var end = message.IndexOf("' encountered", Prefix.Length, StringComparison.Ordinal);
        return end < 0 ? null : message[Prefix.Length..end];
    }

    /// <summary><c>$.source.ip</c> → <c>source.ip</c>, <c>$['a b'].c[0]</c> → <c>a b.c[0]</c>, <c>$</c> → empty.</summary>
    public static string ToFieldPath(string? jsonPath)
    {
        if (string.IsNullOrEmpty(jsonPath) || jsonPath == "$")
        {
            return "";
        }

        var path = jsonPath.AsSpan(jsonPath[0] == '$' ? 1 : 0);
        var builder = new StringBuilder(path.Length);
        var i = 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                AppendSeparator(builder);
                i++;
            }
            else if (path.Slice(i).StartsWith("['", StringComparison.Ordinal))
            {
                var end = path.Slice(i + 2).IndexOf("']", StringComparison.Ordinal);
                if (end < 0)
                {
                    builder.Append(path.Slice(i));
                    break;
                }

                AppendSeparator(builder);
                builder.Append(path.Slice(i + 2, end));
                i += end + 4;
            }
            else
            {
                builder.Append(path[i]);
                i++;
            }
        }

        return builder.ToString();
    }

    private static void AppendSeparator(StringBuilder builder)
    {
        if (builder.Length > 0)
        {
            builder.Append('.');
        }
    }
}
