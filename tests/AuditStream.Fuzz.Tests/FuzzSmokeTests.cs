using System.Diagnostics;
using System.Text;
using CsCheck;
using Xunit.Abstractions;

namespace AuditStream.Fuzz.Tests;

/// <summary>
/// The CI fuzz smoke run: every seed, then CsCheck-generated structured and mutated inputs through each target (about
/// 110,000 inputs in all). A failure prints the CsCheck seed that reproduces it (CsCheck_Seed) and the shrunk input;
/// a crash it found belongs in <see cref="FuzzRegressionTests"/> with its fix. Long runs: bench/run-fuzz.sh.
/// </summary>
public sealed class FuzzSmokeTests(ITestOutputHelper output)
{
    /// <summary>Generated inputs per target in the smoke run (each test asserts it ran them all, seeds not counted).</summary>
    private static readonly Dictionary<string, long> s_smokeInputs = new(StringComparer.Ordinal)
    {
        ["ingest-json"] = 25_000,
        ["ingest-ndjson"] = 15_000,
        ["export"] = 12_000,
        ["export-round-trip"] = 3_000,
        ["filter-query"] = 20_000,
        ["ws-message"] = 20_000,
        ["canonical"] = 20_000,
    };

    [Fact]
    public void The_smoke_run_executes_at_least_100000_generated_inputs()
    {
        // Issue 17: "the CI smoke run executes at least 100,000 inputs with 0 crashes"; each target's test checks its share.
        Assert.True(s_smokeInputs.Values.Sum() >= 100_000, $"the smoke run has only {s_smokeInputs.Values.Sum()} inputs");
        Assert.Equal(7, s_smokeInputs.Count);
    }

    [Fact]
    public void Ingest_json_bodies() =>
        Run("ingest-json", FuzzInputs.IngestJson, body => FuzzTargets.Ingest(body, ndjson: false));

    [Fact]
    public void Ingest_ndjson_bodies() =>
        Run("ingest-ndjson", FuzzInputs.IngestNdjson, body => FuzzTargets.Ingest(body, ndjson: true));

    [Fact]
    public void Export_ndjson_verification()
    {
        // Seeds: the committed malformed lines plus a real export built from the ingest seeds, so mutations start from valid hashes.
        var built = string.Join('\n', FuzzTargets.BuildExport(FuzzCorpus.Seeds("ingest-json"))) + "\n";
        var seeds = FuzzCorpus.Seeds("export").Append(Encoding.UTF8.GetBytes(built)).ToArray();
        Run("export", seeds, Gen.Const(Encoding.UTF8.GetBytes(built)), bytes => FuzzTargets.Export(Encoding.UTF8.GetString(bytes)));
    }

    [Fact]
    public void Export_round_trip_of_accepted_events_verifies_and_a_tampered_byte_is_reported()
    {
        var gen = Gen.Select(FuzzInputs.IngestJson.List[1, 6], Gen.Int[0, 1000], Gen.Int[0, 100_000]);
        var count = 0L;
        var clock = Stopwatch.StartNew();
        gen.Sample(
            (bodies, line, at) =>
            {
                FuzzTargets.ExportRoundTrip(bodies, line, at);
                Interlocked.Increment(ref count);
            },
            iter: FuzzCorpus.Iterations(s_smokeInputs["export-round-trip"]),
            time: FuzzCorpus.Seconds);
        Report("export-round-trip", count, generated: count, clock.Elapsed);
    }

    [Fact]
    public void Filter_query_parameters()
    {
        var events = FuzzCorpus.Events;
        Assert.NotEmpty(events);
        var seeds = FuzzCorpus.Seeds("filter-query");
        var mutated = FuzzInputs.Mutated(seeds).Select(bytes => FuzzCorpus.Pairs(Encoding.UTF8.GetString(bytes)));
        var count = 0L;
        var clock = Stopwatch.StartNew();
        foreach (var seed in seeds)
        {
            FuzzTargets.FilterQuery(FuzzCorpus.Pairs(Encoding.UTF8.GetString(seed)), events);
            count++;
        }

        Gen.Frequency((1, FuzzInputs.Query), (1, mutated)).Sample(
            query =>
            {
                FuzzTargets.FilterQuery(query, events);
                Interlocked.Increment(ref count);
            },
            iter: FuzzCorpus.Iterations(s_smokeInputs["filter-query"]),
            time: FuzzCorpus.Seconds,
            print: query => string.Join('&', query.Select(kv => kv.Value is null ? kv.Key : kv.Key + "=" + kv.Value)));
        Report("filter-query", count, generated: count - seeds.Count, clock.Elapsed);
    }

    [Fact]
    public void WebSocket_client_messages() =>
        Run("ws-message", FuzzInputs.ClientFrame, FuzzTargets.ClientFrame);

    [Fact]
    public void Canonicalizer() =>
        Run("canonical", FuzzInputs.CanonicalJson, FuzzTargets.Canonicalize);

    private void Run(string target, Gen<byte[]> structured, Action<byte[]> fuzz) =>
        Run(target, FuzzCorpus.Seeds(target), structured, fuzz);

    private void Run(string target, IReadOnlyList<byte[]> seeds, Gen<byte[]> structured, Action<byte[]> fuzz)
    {
        var count = 0L;
        var clock = Stopwatch.StartNew();
        foreach (var seed in seeds)
        {
            fuzz(seed);
            count++;
        }

        Gen.Frequency((1, structured), (1, FuzzInputs.Mutated(seeds))).Sample(
            input =>
            {
                fuzz(input);
                Interlocked.Increment(ref count);
            },
            iter: FuzzCorpus.Iterations(s_smokeInputs[target]),
            time: FuzzCorpus.Seconds,
            print: Show);
        Report(target, count, generated: count - seeds.Count, clock.Elapsed);
    }

    private void Report(string target, long count, long generated, TimeSpan elapsed)
    {
        // The count proves the target really ran every generated input of its budget (a long run is timed instead).
        var budget = FuzzCorpus.Seconds > 0 ? 1 : FuzzCorpus.Iterations(s_smokeInputs[target]);
        Assert.True(generated >= budget, $"{target}: only {generated} of {budget} generated inputs ran");
        output.WriteLine($"fuzz {target}: {count} inputs in {elapsed.TotalSeconds:F1} s, 0 crashes");
    }

    private static string Show(byte[] input) =>
        $"{input.Length} bytes, base64 {Convert.ToBase64String(input)} ({Encoding.UTF8.GetString(input).Replace("\n", "\\n", StringComparison.Ordinal)})";
}
