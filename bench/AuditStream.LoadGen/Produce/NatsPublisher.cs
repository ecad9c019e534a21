using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using AuditStream.Bench.Peers;
using AuditStream.LoadGen.Subscribe;

namespace AuditStream.LoadGen.Produce;

/// <summary>
/// The producer's NATS side (issue 7's nats-server peer): a pool of plain TCP connections to the client port. A batch is
/// one write of <c>PUB audit len\r\npayload\r\n</c> per event (each event in the same padded envelope the other peers
/// send) followed by <c>PING\r\n</c>; the batch counts as accepted when the server's <c>PONG</c> comes back, which
/// NATS sends only after processing everything before the PING: the counterpart of HTTP ingest's 201.
/// </summary>
internal sealed class NatsPublisher(Uri server, int connections, int padTo = PublishedEnvelope.DefaultSize) : IDisposable
{
    private static readonly byte[] s_connect = "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n"u8.ToArray();
    private static readonly byte[] s_pub = Encoding.ASCII.GetBytes("PUB " + WireProtocols.NatsSubject + " ");

    private readonly Channel<NatsConnection> _idle = Channel.CreateUnbounded<NatsConnection>();
    private readonly List<NatsConnection> _all = [];
    private readonly SemaphoreSlim _opening = new(1, 1);
    private long _seq;

    /// <summary>Publishes every NDJSON line of <paramref name="ndjson"/>; null when the server acknowledged, else the error.</summary>
    public async Task<string?> PublishAsync(ReadOnlyMemory<byte> ndjson, CancellationToken cancellationToken)
    {
        var connection = await TakeAsync(cancellationToken);
        try
        {
            var batch = Build(ndjson.Span);
            return await connection.SendAndFlushAsync(batch, cancellationToken);
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            return ex.Message;
        }
        finally
        {
            _idle.Writer.TryWrite(connection);
        }
    }

    private byte[] Build(ReadOnlySpan<byte> ndjson)
    {
        var lines = PublishedEnvelope.Lines(ndjson);
        var size = 8;
        foreach (var range in lines)
        {
            size += s_pub.Length + 12 + PublishedEnvelope.MaxSize(range.GetOffsetAndLength(ndjson.Length).Length, padTo) + 2;
        }

        var buffer = new byte[size];
        var envelope = new byte[PublishedEnvelope.MaxSize(ndjson.Length, padTo)];
        var first = Interlocked.Add(ref _seq, lines.Count) - lines.Count + 1;
        var at = 0;
        for (var i = 0; i < lines.Count; i++)
        {
            var length = PublishedEnvelope.Write(ndjson[lines[i]], first + i, padTo, envelope);
            s_pub.CopyTo(buffer.AsSpan(at));
            at += s_pub.Length;
            Utf8Formatter.TryFormat(length, buffer.AsSpan(at), out var written);
            at += written;
            "\r\n"u8.CopyTo(buffer.AsSpan(at));
            at += 2;
            envelope.AsSpan(0, length).CopyTo(buffer.AsSpan(at));
            at += length;
            "\r\n"u8.CopyTo(buffer.AsSpan(at));
            at += 2;
        }

        "PING\r\n"u8.CopyTo(buffer.AsSpan(at));
        at += 6;
        return buffer[..at];
    }

    /// <summary>An idle connection, opening a new one while fewer than <c>connections</c> exist.</summary>
    private async Task<NatsConnection> TakeAsync(CancellationToken cancellationToken)
    {
        if (_idle.Reader.TryRead(out var idle))
        {
            return idle;
        }

        await _opening.WaitAsync(cancellationToken);
        try
        {
            if (_all.Count < connections)
            {
                var opened = await NatsConnection.OpenAsync(server, s_connect, cancellationToken);
                _all.Add(opened);
                return opened;
            }
        }
        finally
        {
            _opening.Release();
        }

        return await _idle.Reader.ReadAsync(cancellationToken);
    }

    public void Dispose()
    {
        foreach (var connection in _all)
        {
            connection.Dispose();
        }

        _opening.Dispose();
    }

    /// <summary>One client connection: one batch in flight, its PONG awaited; the reader answers the server's PINGs.</summary>
    private sealed class NatsConnection : IDisposable
    {
        private readonly Socket _socket;
        private readonly Task _reader;
        private readonly Lock _sync = new();
        private TaskCompletionSource<string?>? _pending;

        private NatsConnection(Socket socket)
        {
            _socket = socket;
            _reader = Task.Run(ReadAsync);
        }

        public static async Task<NatsConnection> OpenAsync(Uri server, byte[] connect, CancellationToken cancellationToken)
        {
            var address = IPAddress.TryParse(server.Host, out var literal) ? literal : (await Dns.GetHostAddressesAsync(server.Host, cancellationToken))[0];
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(new IPEndPoint(address, server.Port == -1 ? 4222 : server.Port), cancellationToken);
            await socket.SendAsync(connect, SocketFlags.None, cancellationToken);
            return new NatsConnection(socket);
        }

        public async Task<string?> SendAndFlushAsync(byte[] batch, CancellationToken cancellationToken)
        {
            var done = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_sync)
            {
                _pending = done;
            }

            var sent = 0;
            while (sent < batch.Length)
            {
                sent += await _socket.SendAsync(batch.AsMemory(sent), SocketFlags.None, cancellationToken);
            }

            return await done.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        }

        private async Task ReadAsync()
        {
            var buffer = new byte[16 * 1024];
            var filled = 0;
            string? error = null;
            try
            {
                while (true)
                {
                    var read = await _socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None);
                    if (read == 0)
                    {
                        error = "nats-server closed the connection";
                        break;
                    }

                    filled += read;
                    var used = 0;
                    while (buffer.AsSpan(used, filled - used).IndexOf("\r\n"u8) is var end and >= 0)
                    {
                        var line = buffer.AsSpan(used, end);
                        if (line.SequenceEqual("PONG"u8))
                        {
                            Complete(null);
                        }
                        else if (line.SequenceEqual("PING"u8))
                        {
                            await _socket.SendAsync("PONG\r\n"u8.ToArray(), SocketFlags.None);
                        }
                        else if (line.StartsWith("-ERR"u8))
                        {
                            Complete(Encoding.ASCII.GetString(line));
                        }

                        used += end + 2;
                    }

                    buffer.AsSpan(used, filled - used).CopyTo(buffer);
                    filled -= used;
                    if (filled == buffer.Length)
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                error = ex.Message;
            }

            Complete(error ?? "nats-server connection ended");
        }

        private void Complete(string? error)
        {
            TaskCompletionSource<string?>? pending;
            lock (_sync)
            {
                pending = _pending;
                _pending = null;
            }

            pending?.TrySetResult(error);
        }

        public void Dispose()
        {
            _socket.Dispose();
            _reader.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
