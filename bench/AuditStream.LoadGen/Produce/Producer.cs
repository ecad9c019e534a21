using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace AuditStream.LoadGen.Produce;

/// <summary>
/// Posts NDJSON batches, each event carrying the send time (<see cref="Stopwatch.GetTimestamp"/>, CLOCK_MONOTONIC:
/// comparable across processes) in <c>metadata.sent_ts</c>. A fixed rate is an open loop: every interval it sends what
/// is due, whatever the answers; max rate is a closed loop of posters.
/// </summary>
internal sealed class Producer : IDisposable
{
    private readonly ProducerSettings _settings;
    private readonly HttpClient _http;
    private readonly EventBatch _events;
    private readonly ProducerResult _result;
    private readonly Lock _sync = new();
    private readonly NatsPublisher? _nats;
    private long _windowStart = long.MaxValue;
    private long _windowEnd = long.MaxValue;
    private long _next;

    public Producer(ProducerSettings settings)
    {
        _settings = settings;
        _events = new EventBatch(settings.Types);
        _result = new ProducerResult(_events.Types);
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = settings.Connections, PooledConnectionLifetime = TimeSpan.FromHours(1) };
        _http = new HttpClient(handler) { BaseAddress = settings.Url, Timeout = TimeSpan.FromSeconds(60) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.Token);
        _nats = settings.Url.Scheme == "nats" ? new NatsPublisher(settings.Url, settings.Connections) : null;
    }

    public void SetWindow(long start, long end) => (_windowStart, _windowEnd) = (start, end);

    /// <summary>Sends until <paramref name="stopAt"/> (Stopwatch ticks), then waits for the answers of requests in flight.</summary>
    public async Task<ProducerResult> RunAsync(long stopAt, CancellationToken cancellationToken)
    {
        if (_settings.Rate > 0)
        {
            await RunAtRateAsync(stopAt, cancellationToken);
        }
        else
        {
            await Task.WhenAll(Enumerable.Range(0, _settings.Connections).Select(_ => Task.Run(async () =>
            {
                while (Stopwatch.GetTimestamp() < stopAt && !cancellationToken.IsCancellationRequested)
                {
                    if (!await PostAsync(Interlocked.Add(ref _next, _settings.MaxBatch) - _settings.MaxBatch, _settings.MaxBatch, cancellationToken))
                    {
                        await Task.Delay(5, cancellationToken);
                    }
                }
            }, cancellationToken)));
        }

        return _result;
    }

    private async Task RunAtRateAsync(long stopAt, CancellationToken cancellationToken)
    {
        var pending = new List<Task>();
        using var inFlight = new SemaphoreSlim(_settings.Connections);
        var start = Stopwatch.GetTimestamp();
        var sent = 0L;
        var interval = TimeSpan.FromMilliseconds(_settings.IntervalMs);
        using var timer = new PeriodicTimer(interval);
        while (!cancellationToken.IsCancellationRequested)
        {
            var now = Stopwatch.GetTimestamp();
            if (now >= stopAt)
            {
                break;
            }

            var due = (long)((now - start) * (double)_settings.Rate / Stopwatch.Frequency);
            while (due > sent)
            {
                if (!inFlight.Wait(0, CancellationToken.None))
                {
                    // Every connection is busy: the server is slower than the offered rate; send late rather than drop.
                    _result.WaitedForConnection++;
                    await inFlight.WaitAsync(cancellationToken);
                }

                var count = (int)Math.Min(due - sent, _settings.MaxBatch);
                var first = sent;
                pending.Add(Task.Run(async () =>
                {
                    try
                    {
                        await PostAsync(first, count, cancellationToken);
                    }
                    finally
                    {
                        inFlight.Release();
                    }
                }, cancellationToken));
                sent += count;
            }

            pending.RemoveAll(t => t.IsCompleted);
            await timer.WaitForNextTickAsync(cancellationToken);
        }

        await Task.WhenAll(pending);
    }

    /// <summary>Posts events first..first+count-1; true when committed.</summary>
    private async Task<bool> PostAsync(long first, int count, CancellationToken cancellationToken)
    {
        var body = new byte[count * _events.MaxEventBytes];
        var stamp = Stopwatch.GetTimestamp();
        var length = _events.Write(body, first, count, stamp);
        using var content = new ByteArrayContent(body, 0, length);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        Interlocked.Add(ref _result.Sent, count);
        if (_nats is not null)
        {
            var error = await _nats.PublishAsync(body.AsMemory(0, length), cancellationToken);
            if (error is null)
            {
                Committed(first, count, stamp);
                return true;
            }

            lock (_sync)
            {
                _result.Failed += count;
                _result.LastError = error;
            }

            return false;
        }

        try
        {
            using var response = await _http.PostAsync("api/v1/events", content, cancellationToken);
            if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
            {
                Committed(first, count, stamp);
                return true;
            }

            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            lock (_sync)
            {
                if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
                {
                    _result.Refused += count;
                }
                else
                {
                    _result.Failed += count;
                }

                _result.LastError = $"{(int)response.StatusCode}: {text[..Math.Min(300, text.Length)]}";
            }
        }
        catch (HttpRequestException ex)
        {
            lock (_sync)
            {
                _result.Failed += count;
                _result.LastError = ex.Message;
            }
        }

        return false;
    }

    private void Committed(long first, int count, long stamp)
    {
        lock (_sync)
        {
            _result.Committed += count;
            if (stamp >= _windowStart && stamp < _windowEnd)
            {
                _result.CommittedInWindow += count;
                _events.CountTypes(first, count, _result.PerTypeInWindow);
            }
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _nats?.Dispose();
    }
}
