using System.Globalization;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Operations;

/// <summary>A parsed Prometheus text scrape: sample name, labels and value per line; <c># TYPE</c> lines give each family's type.</summary>
internal sealed partial class PrometheusScrape
{
    private PrometheusScrape(List<Sample> samples, Dictionary<string, string> types, string text)
    {
        Samples = samples;
        Types = types;
        Text = text;
    }

    public IReadOnlyList<Sample> Samples { get; }

    public IReadOnlyDictionary<string, string> Types { get; }

    public string Text { get; }

    public static async Task<PrometheusScrape> ReadAsync(TestServer server, string? accept = null)
    {
        using var client = server.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, "metrics");
        if (accept is not null)
        {
            request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse(accept));
        }

        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return Parse(await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Scrapes until the sum of <paramref name="name"/>'s samples with <paramref name="labels"/> is
    /// <paramref name="expected"/> (a counter may be bumped just after the response the test waited for is written), or
    /// 10 s pass; returns the last scrape either way, so the caller's assertion reports the value seen.
    /// </summary>
    public static async Task<PrometheusScrape> ReadWhenAsync(TestServer server, double expected, string name, params (string Name, string Value)[] labels)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var scrape = await ReadAsync(server);
            if (scrape.Value(name, labels) == expected || deadline.IsCancellationRequested)
            {
                return scrape;
            }

            await Task.Delay(20, CancellationToken.None);
        }
    }

    public static PrometheusScrape Parse(string text)
    {
        var samples = new List<Sample>();
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                types[parts[2]] = parts[3];
                continue;
            }

            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"Not a Prometheus sample line: {line}");
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match label in LabelPair().Matches(match.Groups["labels"].Value))
            {
                labels[label.Groups["name"].Value] = label.Groups["value"].Value;
            }

            var value = match.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                var v => double.Parse(v, CultureInfo.InvariantCulture),
            };
            samples.Add(new Sample(match.Groups["name"].Value, labels, value));
        }

        return new PrometheusScrape(samples, types, text);
    }

    /// <summary>True when a sample of <paramref name="name"/> (or a histogram family of that name) is present.</summary>
    public bool Has(string name) =>
        Samples.Any(s => s.Name == name || s.Name == name + "_bucket" || s.Name == name + "_count");

    /// <summary>The sum of the samples named <paramref name="name"/> whose labels include <paramref name="labels"/> (0 when none).</summary>
    public double Value(string name, params (string Name, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Name, out var v) && v == l.Value)).Sum(s => s.Value);

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\d+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex(""""(?<name>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>(?:[^"\\]|\\.)*)"""")]
    private static partial Regex LabelPair();

    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);
}
