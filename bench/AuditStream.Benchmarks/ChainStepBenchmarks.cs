using AuditStream.Canonical;
using AuditStream.Events;
using AuditStream.Merkle;
using BenchmarkDotNet.Attributes;

namespace AuditStream.Benchmarks;

/// <summary>Per-event costs: producer-side preparation, and the writer's chain step and Merkle append.</summary>
[MemoryDiagnoser]
public class ChainStepBenchmarks
{
    private readonly byte[] _prevHash = new byte[32];
    private readonly byte[] _hash = new byte[32];
    private readonly byte[] _leaf = new byte[32];
    private readonly EventPreparer _preparer = new();
    private AuditEvent _event = null!;
    private PreparedEvent _prepared = null!;
    private byte[] _body = [];

    [GlobalSetup]
    public void Setup()
    {
        _event = BenchEvents.Make(42) with { Id = Guid.CreateVersion7() };
        _prepared = _preparer.Prepare(_event, null, [])!;
        _body = new byte[_prepared.MaxBodyLength];
    }

    [Benchmark(Description = "producer: validate + classify + canonicalize")]
    public PreparedEvent Prepare() => _preparer.Prepare(_event, null, [])!;

    [Benchmark(Description = "writer: splice ledger fields + SHA-256")]
    public int ChainStep()
    {
        var length = AuditStream.Canonical.ChainStep.WriteBody(_prepared, _prevHash, 123_456_789, 1_790_000_000_000_000, _body);
        AuditStream.Canonical.ChainStep.ComputeHash(_prevHash, _body.AsSpan(0, length), _hash);
        return length;
    }

    [Benchmark(Description = "writer: Merkle leaf hash")]
    public byte[] Leaf()
    {
        MerkleHash.Leaf(_hash, _leaf);
        return _leaf;
    }
}
