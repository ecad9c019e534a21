using AuditStream.Benchmarks;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/AuditStream.Benchmarks -- <scenario> [options]
//   append      durable appends/s with group commit (--producers P --batch B --seconds S [--prepared])
//   latency     append latency at a fixed offered rate (--rate R --seconds S)
//   verify      verification speed over a ledger of N events (--events N [--dir D])
//   proofs      inclusion/consistency proof generation time at N events (--events N [--dir D])
//   http-ingest durable HTTP ingest against a running server (--url U --token T --connections C --batch B --seconds S [--pii])
//   http-latency single-event POST latency at a fixed rate against a running server (--url U --token T --rate R --seconds S)
//   sink-es     Elasticsearch sink throughput into a fast local endpoint (--events N --batch B --runs R)
//   micro       BenchmarkDotNet micro-benchmarks (chain step, canonicalization, Merkle, PII screen)
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("usage: AuditStream.Benchmarks append|latency|verify|proofs|http-ingest|http-latency|sink-es|micro [--key value]…");
    return 2;
}

var options = BenchArgs.Parse(args.Skip(1));
return args[0] switch
{
    "append" => await AppendThroughput.RunAsync(options),
    "latency" => await AppendLatency.RunAsync(options),
    "verify" => await VerifySpeed.RunAsync(options),
    "proofs" => await ProofTiming.RunAsync(options),
    "http-ingest" => await HttpIngest.RunAsync(options),
    "http-latency" => await HttpLatency.RunAsync(options),
    "sink-es" => await SinkThroughput.RunAsync(options),
    "micro" => RunMicro(args.Skip(1).ToArray()),
    _ => Unknown(args[0]),
};

static int RunMicro(string[] rest)
{
    BenchmarkSwitcher.FromAssembly(typeof(BenchArgs).Assembly).Run(rest);
    return 0;
}

static int Unknown(string name)
{
    Console.Error.WriteLine($"unknown scenario '{name}'");
    return 2;
}
