using System.Globalization;
using System.Text;
using System.Text.Json;
using AuditStream.Events;

namespace AuditStream.Fuzz.Tests;

/// <summary>
/// The seed corpus committed under <c>corpus/&lt;target&gt;/</c> (copied next to the test assembly), and the run budget:
/// <c>AUDITSTREAM_FUZZ_SECONDS</c> runs each target for that long (the long run, bench/run-fuzz.sh) instead of the
/// smoke run's fixed number of inputs, which <c>AUDITSTREAM_FUZZ_SCALE</c> multiplies.
/// </summary>
internal static class FuzzCorpus
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "corpus");

    /// <summary>The seed files of <paramref name="target"/>; a target without seeds is a packaging mistake.</summary>
    public static IReadOnlyList<byte[]> Seeds(string target)
    {
        var files = System.IO.Directory.GetFiles(Path.Combine(Directory, target)).Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0)
        {
            throw new InvalidOperationException($"No seed corpus in {Path.Combine(Directory, target)}.");
        }

        return [.. files.Select(File.ReadAllBytes)];
    }

    /// <summary>Seconds per target for a long run, or -1 (the smoke run: a fixed number of inputs).</summary>
    public static int Seconds =>
        int.TryParse(Environment.GetEnvironmentVariable("AUDITSTREAM_FUZZ_SECONDS"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s > 0 ? s : -1;

    /// <summary><paramref name="smoke"/> inputs, times <c>AUDITSTREAM_FUZZ_SCALE</c> when set.</summary>
    public static long Iterations(long smoke) =>
        double.TryParse(Environment.GetEnvironmentVariable("AUDITSTREAM_FUZZ_SCALE"), NumberStyles.Float, CultureInfo.InvariantCulture, out var scale) && scale > 0
            ? Math.Max(1, (long)(smoke * scale))
            : smoke;

    /// <summary>A query string split into pairs the way the endpoints see them (no URL decoding: the parsers get decoded text).</summary>
    public static KeyValuePair<string, string?>[] Pairs(string query) =>
        [.. query.TrimEnd('\n').Split('&').Select(part => part.IndexOf('=', StringComparison.Ordinal) is var eq and >= 0
            ? new KeyValuePair<string, string?>(part[..eq], part[(eq + 1)..])
            : new KeyValuePair<string, string?>(part, null))];

    /// <summary>Events to match filters against: every object of the ingest-json seeds that deserializes.</summary>
    public static IReadOnlyList<AuditEvent> Events { get; } = LoadEvents();

    private static List<AuditEvent> LoadEvents()
    {
        var events = new List<AuditEvent>();
        foreach (var seed in Seeds("ingest-json"))
        {
            using var document = JsonDocument.Parse(seed);
            var elements = document.RootElement.ValueKind == JsonValueKind.Array ? [.. document.RootElement.EnumerateArray()] : new[] { document.RootElement };
            foreach (var element in elements.Where(e => e.ValueKind == JsonValueKind.Object))
            {
                try
                {
                    events.Add(JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(element.GetRawText()), AuditEventReading.Event)!);
                }
                catch (JsonException)
                {
                    // A seed that exercises a parse failure.
                }
            }
        }

        return events;
    }
}
