using System.Net;
using System.Net.Sockets;

namespace AuditStream.LoadGen.Tests;

/// <summary>A connected pair of loopback sockets: the subscriber's side and a fake server that writes frames by hand.</summary>
internal sealed class Loopback : IDisposable
{
    private Loopback(Socket client, Socket server) => (Client, Server) = (client, server);

    public Socket Client { get; }

    public Socket Server { get; }

    public static async Task<Loopback> OpenAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accepting = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!);
        var server = await accepting;
        server.NoDelay = true;
        return new Loopback(client, server);
    }

    /// <summary>Writes one unmasked server frame (FIN set) and waits, so that each frame reaches the reader on its own.</summary>
    public async Task SendFrameAsync(byte opcode, byte[] payload)
    {
        var header = payload.Length < 126 ? new byte[] { (byte)(0x80 | opcode), (byte)payload.Length }
            : [(byte)(0x80 | opcode), 126, (byte)(payload.Length >> 8), (byte)payload.Length];
        await Server.SendAsync(header.Concat(payload).ToArray(), SocketFlags.None);
    }

    /// <summary>Reads one masked client frame of under 126 bytes: its opcode and unmasked payload.</summary>
    public async Task<(byte Opcode, byte[] Payload)> ReceiveFrameAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var head = await ReadExactlyAsync(2, timeout.Token);
        Assert.True((head[1] & 0x80) != 0, "client frames must be masked (RFC 6455 §5.3)");
        var length = head[1] & 0x7F;
        Assert.True(length < 126, "this fake server reads short client frames only");
        var rest = await ReadExactlyAsync(4 + length, timeout.Token);
        var payload = new byte[length];
        for (var i = 0; i < length; i++)
        {
            payload[i] = (byte)(rest[4 + i] ^ rest[i & 3]);
        }

        return ((byte)(head[0] & 0x0F), payload);
    }

    private async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            var read = await Server.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
            Assert.True(read > 0, "the subscriber closed the connection");
            filled += read;
        }

        return buffer;
    }

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
    }
}
