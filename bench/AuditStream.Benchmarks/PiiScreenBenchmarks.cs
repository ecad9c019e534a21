using System.Text.Json;
using AuditStream.Canonical;
using AuditStream.Events;
using AuditStream.Privacy.Detection;
using BenchmarkDotNet.Attributes;

namespace AuditStream.Benchmarks;

/// <summary>Per-event cost of the ingest PII screen with every detector on, next to the preparation it precedes.</summary>
[MemoryDiagnoser]
public class PiiScreenBenchmarks
{
    private static readonly PiiPolicy s_mask = PiiPolicy.All(PiiAction.Mask);
    private readonly EventPreparer _preparer = new();
    private AuditEvent _clean = null!;
    private AuditEvent _text = null!;
    private AuditEvent _pii = null!;

    [GlobalSetup]
    public void Setup()
    {
        _clean = BenchEvents.Make(42);
        _text = _clean with
        {
            Metadata = JsonDocument.Parse("""
                {"reason":"Customer asked on 2026-12-04T01:25:35Z to change the delivery address; ticket 48213, attempt 3 of 5",
                 "agent":{"team":"support-eu-2","queue":"priority"},"items":["sku-1234","sku-99812"],"region":"eu-west-1"}
                """).RootElement.Clone(),
        };
        _pii = _clean with
        {
            Metadata = JsonDocument.Parse("""{"reason":"Customer ann@example.com called from +14155552671","region":"eu-west-1"}""").RootElement.Clone(),
        };
    }

    [Benchmark(Baseline = true, Description = "prepare (validate + classify + canonicalize), for scale")]
    public PreparedEvent Prepare() => _preparer.Prepare(_clean, null, [])!;

    [Benchmark(Description = "screen: bench event (4 short values), nothing found")]
    public AuditEvent ScreenClean() => PiiScreen.Apply(_clean, s_mask, []);

    [Benchmark(Description = "screen: 7 values with dates, ids and numbers, nothing found")]
    public AuditEvent ScreenText() => PiiScreen.Apply(_text, s_mask, []);

    [Benchmark(Description = "screen: e-mail and phone found and masked")]
    public AuditEvent ScreenPii() => PiiScreen.Apply(_pii, s_mask, []);
}
