using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using AuditStream.Events;
using AuditStream.Validation;

namespace AuditStream.Privacy.Detection;

/// <summary>
/// Applies a tenant's <see cref="PiiPolicy"/> to an event before it is prepared and hashed: scans every string value in
/// <c>metadata</c> (nested objects and arrays; not member names, never <c>pii</c>) and rejects, moves or masks what the
/// detectors find. The schema's own fields are ids, enums and <c>source.ip</c>, which are not free text and are not scanned.
/// </summary>
public static class PiiScreen
{
    /// <summary>The rule named in a rejection (followed by the detector), e.g. <c>pii_detected: card …</c>.</summary>
    public const string RejectRule = "pii_detected";

    /// <summary>
    /// The event the policy lets through: <paramref name="e"/> itself when nothing was found (no allocation), otherwise a copy
    /// with masked <c>metadata</c> values and moved ones in <c>pii</c>. Each rejected field is added to
    /// <paramref name="rejections"/> by JSON path (then the event is returned unchanged and must not be appended).
    /// </summary>
    public static AuditEvent Apply(AuditEvent e, PiiPolicy policy, List<ValidationError> rejections, PiiTally? tally = null)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(rejections);
        if (policy.IsOff || e.Metadata is not { ValueKind: JsonValueKind.Object } metadata || !Detects(metadata, policy))
        {
            return e;
        }

        var rewrite = new Rewrite(e, policy, tally);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            rewrite.Walk(metadata, "metadata", writer);
        }

        if (rewrite.Rejections.Count > 0)
        {
            rejections.AddRange(rewrite.Rejections);
            return e;
        }

        return e with { Metadata = Parse(buffer.WrittenSpan), Pii = rewrite.Moved.Count > 0 ? rewrite.MergedPii() : e.Pii };
    }

    private static bool Detects(JsonElement element, PiiPolicy policy)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (Detects(property.Value, policy))
                    {
                        return true;
                    }
                }

                return false;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (Detects(item, policy))
                    {
                        return true;
                    }
                }

                return false;
            case JsonValueKind.String:
                var raw = JsonMarshal.GetRawUtf8Value(element);
                var text = raw.Length >= 2 && raw[0] == '"' ? raw[1..^1] : raw;
                if (!PiiScanner.MayContain(text))
                {
                    return false;
                }

                return text.Contains((byte)'\\') ? DetectsIn(Encoding.UTF8.GetBytes(element.GetString()!), policy) : DetectsIn(text, policy);
            default:
                return false;
        }
    }

    private static bool DetectsIn(ReadOnlySpan<byte> text, PiiPolicy policy)
    {
        var position = 0;
        while (PiiScanner.TryFindNext(text, ref position, out var match))
        {
            if (policy[match.Kind] != PiiAction.Off)
            {
                return true;
            }
        }

        return false;
    }

    private static JsonElement Parse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        return JsonElement.ParseValue(ref reader);
    }

    /// <summary>The slow path, for an event in which something was found: rewrites <c>metadata</c> and names each field.</summary>
    private sealed class Rewrite(AuditEvent e, PiiPolicy policy, PiiTally? tally)
    {
        private readonly bool _canMove = !string.IsNullOrEmpty(e.SubjectId) && e.Pii is null or { ValueKind: JsonValueKind.Object };

        public List<ValidationError> Rejections { get; } = [];

        public List<(string Path, string Value)> Moved { get; } = [];

        public void Walk(JsonElement element, string path, Utf8JsonWriter writer)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    writer.WriteStartObject();
                    foreach (var property in element.EnumerateObject())
                    {
                        writer.WritePropertyName(property.Name);
                        Walk(property.Value, path + "." + property.Name, writer);
                    }

                    writer.WriteEndObject();
                    break;
                case JsonValueKind.Array:
                    writer.WriteStartArray();
                    var index = 0;
                    foreach (var item in element.EnumerateArray())
                    {
                        Walk(item, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{path}[{index++}]"), writer);
                    }

                    writer.WriteEndArray();
                    break;
                case JsonValueKind.String:
                    String(element, path, writer);
                    break;
                default:
                    element.WriteTo(writer);
                    break;
            }
        }

        public JsonElement MergedPii()
        {
            var buffer = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                if (e.Pii is { } pii)
                {
                    foreach (var property in pii.EnumerateObject())
                    {
                        property.WriteTo(writer);
                    }
                }

                foreach (var (path, value) in Moved)
                {
                    writer.WriteString(path, value);
                }

                writer.WriteEndObject();
            }

            return Parse(buffer.WrittenSpan);
        }

        private void String(JsonElement element, string path, Utf8JsonWriter writer)
        {
            var value = element.GetString()!;
            var text = Encoding.UTF8.GetBytes(value);
            var matches = new List<PiiMatch>();
            var position = 0;
            while (PiiScanner.TryFindNext(text, ref position, out var match))
            {
                if (policy[match.Kind] != PiiAction.Off)
                {
                    matches.Add(match);
                }
            }

            if (matches.Count == 0)
            {
                element.WriteTo(writer);
                return;
            }

            if (matches.Exists(m => policy[m.Kind] == PiiAction.Reject))
            {
                var rejected = Names(matches.Where(m => policy[m.Kind] == PiiAction.Reject));
                Rejections.Add(new ValidationError(path, $"{RejectRule}: holds personal data (detector {rejected}) that this tenant's policy refuses here; send it in pii with a subject_id"));
                Count(matches, PiiAction.Reject);
                element.WriteTo(writer);
                return;
            }

            if (matches.Exists(m => policy[m.Kind] == PiiAction.Move) && _canMove && !(e.Pii is { } pii && pii.TryGetProperty(path, out _)))
            {
                Moved.Add((path, value));
                Count(matches, PiiAction.Move);
                writer.WriteStringValue($"[pii:{Names(matches)}]");
                return;
            }

            // Mask, and Move where there is no subject to encrypt for: each match gives way to its placeholder.
            Count(matches, PiiAction.Mask);
            var masked = new StringBuilder(value.Length);
            var last = 0;
            foreach (var m in matches)
            {
                masked.Append(Encoding.UTF8.GetString(text, last, m.Start - last)).Append("[pii:").Append(PiiKinds.Name(m.Kind)).Append(']');
                last = m.End;
            }

            masked.Append(Encoding.UTF8.GetString(text, last, text.Length - last));
            writer.WriteStringValue(masked.ToString());
        }

        private void Count(List<PiiMatch> matches, PiiAction action)
        {
            foreach (var m in matches)
            {
                tally?.Add(m.Kind, action);
            }
        }

        private static string Names(IEnumerable<PiiMatch> matches) =>
            string.Join(',', matches.Select(m => m.Kind).Distinct().Order().Select(PiiKinds.Name));
    }
}
