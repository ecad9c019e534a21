using System.Net.WebSockets;
using AuditStream.Server.Tests.Streaming;

namespace AuditStream.Server.Tests.Cluster;

/// <summary>A WebSocket subscriber reading in the background, every published seq kept in order.</summary>
internal sealed class ClusterSubscriber : IAsyncDisposable
{
    private readonly Func<long, Uri> _address;
    private readonly List<long> _seqs = [];
    private readonly Task _reading;
    private StreamClient _client;
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string _ended = "";

    private ClusterSubscriber(StreamClient client, Func<long, Uri> address)
    {
        _client = client;
        _address = address;
        _reading = Task.Run(ReadAsync);
    }

    /// <summary>How many times the server closed the stream as a slow consumer (4008) and the subscriber resumed after its last seq.</summary>
    public int Resumes { get; private set; }

    public IReadOnlyList<long> Seqs
    {
        get
        {
            lock (_seqs)
            {
                return [.. _seqs];
            }
        }
    }

    /// <summary>Connects to <paramref name="address"/> (given the seq to resume after) from the start of the ledger.</summary>
    public static async Task<ClusterSubscriber> StartAsync(Func<long, Uri> address) => new(await StreamClient.ConnectAsync(address(0)), address);

    public async Task WaitForAsync(long seq)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var progress = Volatile.Read(ref _progress);
            lock (_seqs)
            {
                if (_seqs.Count > 0 && _seqs[^1] >= seq)
                {
                    return;
                }
            }

            if (_reading.IsCompleted)
            {
                var seen = Seqs;
                throw new InvalidOperationException($"the stream ended at seq {(seen.Count == 0 ? 0 : seen[^1])}, before {seq}: {_ended}");
            }

            await Task.WhenAny(progress.Task, _reading).WaitAsync(timeout.Token);
        }
    }

    public async ValueTask DisposeAsync() => await _client.DisposeAsync();

    private async Task ReadAsync()
    {
        try
        {
            while (true)
            {
                var (message, close) = await _client.ReceiveOrCloseAsync();
                if (message is null)
                {
                    // A slow consumer resumes where it was, as DESIGN.md §5 tells clients to: nothing is lost or repeated.
                    if ((int?)close == 4008)
                    {
                        await _client.DisposeAsync();
                        var seen = Seqs;
                        _client = await StreamClient.ConnectAsync(_address(seen.Count == 0 ? 0 : seen[^1]));
                        Resumes++;
                        continue;
                    }

                    _ended = $"closed {close}";
                    return;
                }

                // An alert event comes as audit.{kind}.alert, with its seq like any other.
                var type = message["type"]!.GetValue<string>();
                if (type == "audit.event.published" || type.EndsWith(".alert", StringComparison.Ordinal))
                {
                    lock (_seqs)
                    {
                        _seqs.Add(message["seq"]!.GetValue<long>());
                    }

                    Interlocked.Exchange(ref _progress, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or Xunit.Sdk.XunitException)
        {
            // The instance was killed or the subscriber disposed.
            _ended = ex.Message;
        }
    }
}
