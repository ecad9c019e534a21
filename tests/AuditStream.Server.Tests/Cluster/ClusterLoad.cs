using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using AuditStream.Server.Auth;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Cluster;

/// <summary>
/// Producers posting batches of events with their own ids to every instance in turn until stopped, each batch
/// re-sent with the same ids to the next instance until acknowledged; every acknowledged id and its seq are kept.
/// </summary>
internal sealed partial class ClusterLoad
{
    private const int BatchSize = 10;

    private readonly ConcurrentDictionary<Guid, long> _acked = new();
    private readonly Task[] _producers;
    private readonly ServerProcess[] _instances;
    private readonly HttpClient[] _clients;
    private readonly ConcurrentDictionary<int, bool> _avoided = new();
    private volatile bool _stopping;
    private int _batches;

    private ClusterLoad(ClusterInstances cluster, IReadOnlyList<ServerProcess> instances, int producers)
    {
        var token = cluster.Token("operator", "acme", AuditClaims.WriteScope);
        _instances = [.. instances];
        _clients = [.. instances.Select(i => cluster.Client(i, token))];
        _producers = [.. Enumerable.Range(0, producers).Select(p => Task.Run(() => ProduceAsync(p)))];
    }

    /// <summary>Batches acknowledged so far.</summary>
    public int Batches => Volatile.Read(ref _batches);

    public static ClusterLoad Start(ClusterInstances cluster, IReadOnlyList<ServerProcess> instances, int producers = 3) => new(cluster, instances, producers);

    /// <summary>Sends no new batch to <paramref name="instance"/> (one about to be frozen) until <see cref="Include"/>; requests already sent stay.</summary>
    public void Avoid(ServerProcess instance) => _avoided[IndexOf(instance)] = true;

    /// <summary>Sends batches to <paramref name="instance"/> again.</summary>
    public void Include(ServerProcess instance) => _avoided.TryRemove(IndexOf(instance), out _);

    /// <summary>Posts one batch (like a producer, acknowledged ids kept) through <paramref name="targets"/> only.</summary>
    public Task PostOnceAsync(IEnumerable<ServerProcess> targets, int producer, int batch) =>
        PostBatchAsync([.. targets.Select(t => _clients[IndexOf(t)])], producer, batch);

    /// <summary>Waits until <paramref name="more"/> batches more than now were acknowledged (a failed producer fails it).</summary>
    public Task WaitForMoreAsync(int more)
    {
        var target = Batches + more;
        return UntilAsync(() => Batches >= target, $"{more} more acknowledged batches");
    }

    /// <summary>Waits until <paramref name="done"/> holds, re-checking every 50 ms for up to 90 s, failing with a producer's failure.</summary>
    public async Task UntilAsync(Func<bool> done, string what)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (!done())
        {
            if (_producers.FirstOrDefault(p => p.IsFaulted) is { } failed)
            {
                await failed;
            }

            try
            {
                await Task.Delay(50, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"not reached within 90 s: {what} ({Batches} batches acknowledged)");
            }
        }
    }

    /// <summary>Stops after each producer's batch in flight is acknowledged; the acknowledged ids and their seqs.</summary>
    public async Task<IReadOnlyDictionary<Guid, long>> StopAsync()
    {
        _stopping = true;
        await Task.WhenAll(_producers).WaitAsync(TimeSpan.FromSeconds(180));
        return _acked;
    }

    /// <summary>The value of <c>audit_backplane_messages_total{direction,result}</c> in one scrape of <paramref name="instance"/>'s /metrics.</summary>
    public static async Task<long> BackplaneMessagesAsync(ClusterInstances cluster, ServerProcess instance, string direction, string result)
    {
        using var client = cluster.Client(instance, null);
        var text = await client.GetStringAsync("metrics");
        foreach (Match line in BackplaneLine().Matches(text))
        {
            var labels = line.Groups["labels"].Value;
            if (labels.Contains($"direction=\"{direction}\"", StringComparison.Ordinal) && labels.Contains($"result=\"{result}\"", StringComparison.Ordinal))
            {
                return long.Parse(line.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    private async Task ProduceAsync(int producer)
    {
        for (var b = 0; !_stopping; b++)
        {
            var targets = _clients.Where((_, i) => !_avoided.ContainsKey(i)).ToArray();
            await PostBatchAsync(targets, producer, b);
        }
    }

    private async Task PostBatchAsync(HttpClient[] targets, int producer, int batch)
    {
        var ids = Enumerable.Range(0, BatchSize).Select(_ => Guid.NewGuid()).ToArray();
        var body = "[" + string.Join(',', ids.Select((id, i) => Json.Event((producer * 100_000) + (batch * BatchSize) + i, extra: $"\"id\":\"{id}\""))) + "]";
        var receipts = await ClusterProcessTests.PostUntilAcknowledgedAsync(targets, producer + batch, body);
        foreach (var receipt in receipts)
        {
            if (!_acked.TryAdd(Guid.Parse(receipt!["id"]!.GetValue<string>()), receipt["seq"]!.GetValue<long>()))
            {
                throw new InvalidOperationException($"id {receipt["id"]} acknowledged twice");
            }
        }

        Interlocked.Increment(ref _batches);
    }

    private int IndexOf(ServerProcess instance) => Array.IndexOf(_instances, instance) is >= 0 and var i ? i : throw new ArgumentException("not an instance of this load", nameof(instance));

    [GeneratedRegex(@"^audit_backplane_messages_total\{(?<labels>[^}]*)\}\s+(?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex BackplaneLine();
}
