using System.Text.Json;
using AuditStream.Filters;
using AuditStream.Validation;

namespace AuditStream.Streaming.Protocol;

/// <summary>One parsed client message, or why it was rejected (then answered with <c>audit.error</c>).</summary>
internal sealed record ClientMessage
{
    public required ClientMessageKind Kind { get; init; }

    public StreamFilter? Filter { get; init; }

    public long SinceSeq { get; init; }

    /// <summary>The ledger a <c>resume</c>'s <see cref="SinceSeq"/> counts in, or null when the client did not say.</summary>
    public string? LedgerId { get; init; }

    public string? ErrorCode { get; init; }

    public string? ErrorMessage { get; init; }

    public string? ErrorField { get; init; }

    /// <summary>Parses a text frame; filters are validated against <paramref name="maxFilterValues"/>.</summary>
    public static ClientMessage Parse(ReadOnlySpan<byte> utf8, int maxFilterValues)
    {
        // RFC 6455 §5.6: a text frame is UTF-8. JsonDocument leaves string contents unchecked until they are read.
        if (!System.Text.Unicode.Utf8.IsValid(utf8))
        {
            return Invalid(StreamErrorCodes.InvalidJson, "The message is not valid UTF-8.", null);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8.ToArray(), new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException)
        {
            return Invalid(StreamErrorCodes.InvalidJson, "The message is not valid JSON.", null);
        }

        using (document)
        {
            try
            {
                return ParseRoot(document.RootElement, maxFilterValues);
            }
            catch (InvalidOperationException)
            {
                // JsonDocument accepts any \u escape; reading a name or string whose escapes are not valid UTF-16 (a lone
                // surrogate such as "\ud800") throws. Found by the fuzzer (FuzzRegressionTests).
                return Invalid(StreamErrorCodes.InvalidJson, "The message holds a \\u escape that is not valid UTF-16 (a lone surrogate).", null);
            }
        }
    }

    private static ClientMessage ParseRoot(JsonElement root, int maxFilterValues)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Invalid(StreamErrorCodes.InvalidJson, "The message must be a JSON object.", null);
        }

        if (!root.TryGetProperty("type"u8, out var type) || type.ValueKind != JsonValueKind.String)
        {
            return Invalid(StreamErrorCodes.InvalidMessage, "The message must have a string type.", "type");
        }

        if (type.ValueEquals("ping"u8))
        {
            return new() { Kind = ClientMessageKind.Ping };
        }

        if (type.ValueEquals("resume"u8))
        {
            if (!root.TryGetProperty("since_seq"u8, out var since) || since.ValueKind != JsonValueKind.Number || !since.TryGetInt64(out var seq) || seq < 0)
            {
                return Invalid(StreamErrorCodes.InvalidMessage, "resume needs since_seq, a whole number of at least 0.", "since_seq");
            }

            string? ledgerId = null;
            if (root.TryGetProperty("ledger_id"u8, out var ledger) && ledger.ValueKind != JsonValueKind.Null
                && (ledger.ValueKind != JsonValueKind.String || !LedgerIds.IsWellFormed(ledgerId = ledger.GetString())))
            {
                return Invalid(StreamErrorCodes.InvalidMessage, $"resume's ledger_id, when given, must be {LedgerIds.Rule}.", "ledger_id");
            }

            return new() { Kind = ClientMessageKind.Resume, SinceSeq = seq, LedgerId = ledgerId };
        }

        if (type.ValueEquals("update_filters"u8))
        {
            return ParseFilters(root, maxFilterValues);
        }

        return Invalid(StreamErrorCodes.UnknownType, "Unknown message type; expected ping, update_filters or resume.", "type");
    }

    private static ClientMessage ParseFilters(JsonElement root, int maxFilterValues)
    {
        if (!root.TryGetProperty("filters"u8, out var element) || element.ValueKind != JsonValueKind.Object)
        {
            return Invalid(StreamErrorCodes.InvalidFilter, "update_filters needs a filters object.", "filters");
        }

        StreamFilter filter;
        try
        {
            filter = element.Deserialize(StreamFilterJsonContext.Default.StreamFilter) ?? StreamFilter.All;
        }
        catch (JsonException exception)
        {
            var error = FilterValidator.ParseError(exception);
            return Invalid(StreamErrorCodes.InvalidFilter, error.ToString(), error.Field);
        }

        var errors = new List<ValidationError>();
        if (!FilterValidator.Validate(filter, maxFilterValues, errors))
        {
            return Invalid(StreamErrorCodes.InvalidFilter, string.Join("; ", errors), errors[0].Field);
        }

        return new() { Kind = ClientMessageKind.UpdateFilters, Filter = filter };
    }

    private static ClientMessage Invalid(string code, string message, string? field) =>
        new() { Kind = ClientMessageKind.Invalid, ErrorCode = code, ErrorMessage = message, ErrorField = field };
}
