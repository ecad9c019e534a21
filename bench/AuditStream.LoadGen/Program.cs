using System.CommandLine;
using System.Diagnostics;
using System.Net;
using AuditStream.LoadGen.Produce;
using AuditStream.LoadGen.Run;
using AuditStream.LoadGen.Subscribe;

// Live-stream load generator (issue 5's benchmark, issue 7's harness); docs/benchmarks.md has the scenarios and commands.
var url = new Option<string>("--url") { Description = "Server base address", DefaultValueFactory = _ => "http://127.0.0.1:5091/" };
var token = new Option<string>("--token") { Description = "Subscriber token (env AUDITSTREAM_TOKEN)", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("AUDITSTREAM_TOKEN") ?? "" };
var producerToken = new Option<string>("--producer-token") { Description = "Producer token with scope audit:write (env AUDITSTREAM_PRODUCER_TOKEN)", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("AUDITSTREAM_PRODUCER_TOKEN") ?? "" };
var types = new Option<int>("--types") { Description = "Event types produced; with N > 1 subscriber i filters on type i % N (each matches 1/N of events). 0 or 1: one type, no filter", DefaultValueFactory = _ => 0 };
var query = new Option<string?>("--query") { Description = "Extra query string for every subscriber, e.g. severities=info" };
var stalledPercent = new Option<int>("--stalled-percent") { Description = "Percent of subscribers that never read after the upgrade", DefaultValueFactory = _ => 0 };
var stalledRcvbuf = new Option<int>("--stalled-rcvbuf") { Description = "SO_RCVBUF of stalled subscribers, bytes", DefaultValueFactory = _ => 4096 };
var readBuffer = new Option<int>("--read-buffer") { Description = "Read buffer per healthy subscriber, bytes", DefaultValueFactory = _ => 16 * 1024 };
var connectConcurrency = new Option<int>("--connect-concurrency") { Description = "Upgrades in flight per subscriber process", DefaultValueFactory = _ => 64 };
var sources = new Option<string?>("--sources") { Description = "Comma-separated local addresses to bind round robin (e.g. 127.0.0.2,127.0.0.3) when ephemeral ports run short" };
var count = new Option<int>("--count") { Description = "Connections this process opens", DefaultValueFactory = _ => 100 };
var first = new Option<int>("--first") { Description = "Global index of this process's first connection", DefaultValueFactory = _ => 0 };
var rate = new Option<int>("--rate") { Description = "Events/s offered; 0 = max (closed loop)", DefaultValueFactory = _ => 1000 };
var interval = new Option<int>("--interval-ms") { Description = "At a fixed rate, send what is due every N ms", DefaultValueFactory = _ => 5 };
var batch = new Option<int>("--batch") { Description = "Most events per POST", DefaultValueFactory = _ => 1000 };
var connections = new Option<int>("--producer-connections") { Description = "Producer HTTP connections (posters at max rate, in-flight bound at a fixed rate)", DefaultValueFactory = _ => 8 };
var clients = new Option<int>("--clients") { Description = "Subscribers in all", DefaultValueFactory = _ => 100 };
var perProcess = new Option<int>("--per-process") { Description = "Most subscribers per process (each holds one fd per connection; the limit is 20,000)", DefaultValueFactory = _ => 5000 };
var warmup = new Option<double>("--warmup") { Description = "Seconds of load before the window", DefaultValueFactory = _ => 3 };
var seconds = new Option<double>("--seconds") { Description = "Seconds measured (idle: seconds to settle)", DefaultValueFactory = _ => 10 };
var drain = new Option<double>("--drain") { Description = "Seconds after the window for in-window events to arrive", DefaultValueFactory = _ => 2 };
var idle = new Option<bool>("--idle") { Description = "No producer: server RSS per idle connection" };
var serverPid = new Option<int>("--server-pid") { Description = "Server process id for CPU and RSS from /proc; 0 to skip", DefaultValueFactory = _ => 0 };
var scenario = new Option<string>("--scenario") { Description = "Name in the summary and CSV", DefaultValueFactory = _ => "custom" };
var csv = new Option<string?>("--csv") { Description = "CSV file to append the result row to" };
var protocol = new Option<WireProtocol>("--protocol") { Description = "What subscribers speak: auditstream (AuditStream and the raw loopback peer), signalr (JSON hub protocol at /hub), nats (NATS over nats-server's WebSocket port)", DefaultValueFactory = _ => WireProtocol.AuditStream };
var producerUrl = new Option<string?>("--producer-url") { Description = "Where the producer sends, when not --url: http(s)://… posts to /api/v1/events, nats://host:port publishes on subject 'audit'" };
var latencyFrom = new Option<LatencyOrigin>("--latency-from") { Description = "Where latencies start: sent (the producer's send, metadata.sent_ts) or commit (the event's timestamp, the ledger's commit time; AuditStream only)", DefaultValueFactory = _ => LatencyOrigin.Sent };
var inline = new Option<bool>("--inline-completions") { Description = "Socket reads complete on the epoll thread in subscriber processes", DefaultValueFactory = _ => true };

SubscriberSettings Subscribers(ParseResult r) => new()
{
    Url = new Uri(r.GetValue(url)!),
    Token = r.GetValue(token)!,
    Count = r.GetValue(count),
    First = r.GetValue(first),
    Types = r.GetValue(types),
    Query = r.GetValue(query),
    StalledPercent = r.GetValue(stalledPercent),
    StalledReceiveBuffer = r.GetValue(stalledRcvbuf),
    ReadBuffer = r.GetValue(readBuffer),
    ConnectConcurrency = r.GetValue(connectConcurrency),
    Protocol = r.GetValue(protocol),
    LatencyFrom = r.GetValue(latencyFrom),
    Sources = (r.GetValue(sources) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(IPAddress.Parse).ToArray(),
};

ProducerSettings Producer(ParseResult r) => new()
{
    Url = new Uri(r.GetValue(producerUrl) ?? r.GetValue(url)!),
    Token = r.GetValue(producerToken)!,
    Rate = r.GetValue(rate),
    IntervalMs = r.GetValue(interval),
    MaxBatch = r.GetValue(batch),
    Connections = r.GetValue(connections),
    Types = Math.Max(1, r.GetValue(types)),
};

var subscribe = new Command("subscribe", "Child mode: open --count raw WebSocket subscribers and obey window/report/stop lines on stdin.")
{
    url, token, count, first, types, query, stalledPercent, stalledRcvbuf, readBuffer, connectConcurrency, sources, protocol, latencyFrom,
};
subscribe.SetAction((r, ct) => SubscriberProcess.RunAsync(Subscribers(r), ct));

var produce = new Command("produce", "Post stamped events at --rate (0 = max) for --seconds and print what was committed.")
{
    url, producerUrl, producerToken, rate, interval, batch, connections, types, seconds,
};
produce.SetAction(async (r, ct) =>
{
    using var producer = new Producer(Producer(r));
    var clock = Stopwatch.StartNew();
    var result = await producer.RunAsync(Stopwatch.GetTimestamp() + (long)(r.GetValue(seconds) * Stopwatch.Frequency), ct);
    Console.WriteLine($"produce: sent {result.Sent}, committed {result.Committed} ({result.Committed / clock.Elapsed.TotalSeconds:F0}/s), refused {result.Refused}, failed {result.Failed} {result.LastError}");
    return result.Failed > 0 ? 1 : 0;
});

var run = new Command("run", "Coordinator: subscribers in child processes, the producer in process, one measured window, one result row.")
{
    url, token, producerToken, clients, perProcess, types, query, stalledPercent, stalledRcvbuf, readBuffer, connectConcurrency, sources,
    rate, interval, batch, connections, warmup, seconds, drain, idle, serverPid, scenario, csv, inline, protocol, producerUrl, latencyFrom,
};
run.SetAction((r, ct) => Coordinator.RunAsync(
    new RunSettings
    {
        Scenario = r.GetValue(scenario)!,
        Subscribers = Subscribers(r),
        Producer = Producer(r),
        Clients = r.GetValue(clients),
        PerProcess = r.GetValue(perProcess),
        Warmup = TimeSpan.FromSeconds(r.GetValue(warmup)),
        Duration = TimeSpan.FromSeconds(r.GetValue(seconds)),
        Drain = TimeSpan.FromSeconds(r.GetValue(drain)),
        Idle = r.GetValue(idle),
        ServerPid = r.GetValue(serverPid),
        CsvPath = r.GetValue(csv),
        InlineCompletions = r.GetValue(inline),
    },
    ct));

var root = new RootCommand("AuditStream live-stream load generator: raw-socket WebSocket subscribers across processes, an HTTP producer, a scenario coordinator.")
{
    run, subscribe, produce,
};
return await root.Parse(args).InvokeAsync();
