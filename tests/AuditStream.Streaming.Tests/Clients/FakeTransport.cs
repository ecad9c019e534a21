using System.Text;
using System.Threading.Channels;
using AuditStream.Streaming.Clients;
using AuditStream.Streaming.Protocol;
using AuditStream.Streaming.Transports;

namespace AuditStream.Streaming.Tests.Clients;

/// <summary>
/// An in-memory <see cref="IClientTransport"/>: records every frame, flush and close in order, delivers client messages
/// written with <see cref="SendFromClient"/>, and can hold a flush open (a socket that does not drain) until released.
/// Every wait is on a signal with a timeout, never a sleep.
/// </summary>
internal sealed class FakeTransport : IClientTransport
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly Channel<byte[]> _inbound = Channel.CreateUnbounded<byte[]>();
    private readonly Lock _lock = new();
    private readonly List<StreamFrame> _pending = [];
    private readonly List<string> _log = [];
    private readonly List<List<StreamFrame>> _flushes = [];
    private TaskCompletionSource? _hold;
    private TaskCompletionSource _flushStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _changed = new(0);
    private Exception? _failWith;

    public string Name => "fake";

    /// <summary>What happened, in order: <c>flush:N</c>, <c>close:CODE:REASON</c>, <c>complete</c>.</summary>
    public List<string> Log
    {
        get
        {
            lock (_lock)
            {
                return [.. _log];
            }
        }
    }

    /// <summary>The frames of each flush (each one socket write on a real transport).</summary>
    public List<List<StreamFrame>> Flushes
    {
        get
        {
            lock (_lock)
            {
                return [.. _flushes.Select(f => f.ToList())];
            }
        }
    }

    /// <summary>Every frame flushed, in order.</summary>
    public List<StreamFrame> Frames => [.. Flushes.SelectMany(f => f)];

    /// <summary>The <c>type</c> of every frame flushed, in order.</summary>
    public List<string> Types => [.. Frames.Select(f => f.Type)];

    /// <summary>Makes the next flushes wait until <see cref="Release"/>.</summary>
    public void Hold()
    {
        lock (_lock)
        {
            _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _flushStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>Completes when a held flush has begun.</summary>
    public Task FlushStarted
    {
        get
        {
            lock (_lock)
            {
                return _flushStarted.Task.WaitAsync(Timeout);
            }
        }
    }

    public void Release()
    {
        TaskCompletionSource? hold;
        lock (_lock)
        {
            hold = _hold;
            _hold = null;
        }

        hold?.TrySetResult();
    }

    /// <summary>Every later send or flush throws <paramref name="exception"/> (the peer went away).</summary>
    public void FailWith(Exception exception) => _failWith = exception;

    /// <summary>A message from the client, as the read loop would hand it over.</summary>
    public void SendFromClient(string json) => _inbound.Writer.TryWrite(Encoding.UTF8.GetBytes(json));

    /// <summary>The client goes away (closes its side): the read loop ends.</summary>
    public void ClientLeaves() => _inbound.Writer.TryComplete();

    /// <summary>Waits until <paramref name="condition"/> holds over the flushed frames.</summary>
    public async Task WaitForAsync(Func<FakeTransport, bool> condition)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (!condition(this))
        {
            await _changed.WaitAsync(timeout.Token);
        }
    }

    public async Task ReceiveAsync(ClientConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in _inbound.Reader.ReadAllAsync(cancellationToken))
            {
                if (connection.AdmitInbound())
                {
                    await connection.HandleAsync(message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public ValueTask SendAsync(StreamFrame frame, CancellationToken cancellationToken)
    {
        if (_failWith is { } failure)
        {
            throw failure;
        }

        lock (_lock)
        {
            _pending.Add(frame);
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        Task? hold;
        lock (_lock)
        {
            hold = _hold?.Task;
            _flushStarted.TrySetResult();
        }

        if (hold is not null)
        {
            await hold.WaitAsync(cancellationToken);
        }

        if (_failWith is { } failure)
        {
            throw failure;
        }

        lock (_lock)
        {
            _flushes.Add([.. _pending]);
            _log.Add($"flush:{_pending.Count}");
            _pending.Clear();
        }

        _changed.Release();
    }

    public ValueTask CloseAsync(int status, string description, CancellationToken cancellationToken)
    {
        Record($"close:{status}:{description}");
        return ValueTask.CompletedTask;
    }

    public ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        Record("complete");
        return ValueTask.CompletedTask;
    }

    private void Record(string entry)
    {
        lock (_lock)
        {
            _log.Add(entry);
        }

        _changed.Release();
    }
}
