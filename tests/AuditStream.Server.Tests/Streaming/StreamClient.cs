using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Streaming;

/// <summary>A real <see cref="ClientWebSocket"/> on /ws/audit that reads one JSON message per text frame, every wait bounded.</summary>
internal sealed class StreamClient : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly HttpMessageInvoker? _invoker;
    private readonly byte[] _buffer = new byte[1 << 20];

    private StreamClient(ClientWebSocket socket, HttpMessageInvoker? invoker)
    {
        Socket = socket;
        _invoker = invoker;
    }

    public ClientWebSocket Socket { get; }

    public static Uri Address(TestServer server, string query = "") =>
        new(new Uri(server.BaseAddress.ToString().Replace("http://", "ws://", StringComparison.Ordinal)), "ws/audit" + query);

    /// <summary>Connects; <paramref name="receiveBufferBytes"/> shrinks the client's TCP receive buffer so a client that does not read blocks the server quickly.</summary>
    public static async Task<StreamClient> ConnectAsync(Uri address, Action<ClientWebSocketOptions>? configure = null, int? receiveBufferBytes = null)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        configure?.Invoke(socket.Options);
        HttpMessageInvoker? invoker = null;
        if (receiveBufferBytes is { } bytes)
        {
            invoker = new HttpMessageInvoker(new SocketsHttpHandler
            {
                ConnectCallback = async (context, cancellationToken) =>
                {
                    var tcp = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = bytes };
                    await tcp.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(tcp, ownsSocket: true);
                },
            });
        }

        using var cts = new CancellationTokenSource(Timeout);
        await socket.ConnectAsync(address, invoker, cts.Token);
        return new StreamClient(socket, invoker);
    }

    public static Task<StreamClient> ConnectAsync(TestServer server, string token, string query = "") =>
        ConnectAsync(Address(server, "?token=" + Uri.EscapeDataString(token) + query));

    /// <summary>Connects and reads the first message, which must be audit.connection.established.</summary>
    public static async Task<(StreamClient Client, JsonNode Established)> ConnectEstablishedAsync(TestServer server, string token, string query = "")
    {
        var client = await ConnectAsync(server, token, query);
        var established = await client.ReceiveAsync();
        Assert.Equal("audit.connection.established", established["type"]!.GetValue<string>());
        return (client, established);
    }

    public async Task SendAsync(string json)
    {
        using var cts = new CancellationTokenSource(Timeout);
        await Socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, endOfMessage: true, cts.Token);
    }

    /// <summary>The next message; fails on close or after <see cref="Timeout"/>.</summary>
    public async Task<JsonNode> ReceiveAsync()
    {
        var (node, close) = await ReceiveOrCloseAsync();
        Assert.True(node is not null, $"The server closed the stream: {close}");
        return node!;
    }

    /// <summary>The next message, or the close status when the server closed instead.</summary>
    public async Task<(JsonNode? Message, WebSocketCloseStatus? Close)> ReceiveOrCloseAsync()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var count = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await Socket.ReceiveAsync(_buffer.AsMemory(count), cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (null, Socket.CloseStatus);
            }

            count += result.Count;
        }
        while (!result.EndOfMessage);

        Assert.Equal(WebSocketMessageType.Text, result.MessageType);
        return (JsonNode.Parse(_buffer.AsSpan(0, count)), null);
    }

    /// <summary>Reads audit.event.published messages until one with <paramref name="seq"/>, returning every seq seen (in order).</summary>
    public async Task<List<long>> ReceiveSeqsThroughAsync(long seq)
    {
        var seqs = new List<long>();
        while (seqs.Count == 0 || seqs[^1] < seq)
        {
            var message = await ReceiveAsync();
            Assert.Equal("audit.event.published", message["type"]!.GetValue<string>());
            seqs.Add(message["seq"]!.GetValue<long>());
        }

        return seqs;
    }

    public async ValueTask DisposeAsync()
    {
        if (Socket.State == WebSocketState.Open)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
            {
            }
        }

        Socket.Dispose();
        _invoker?.Dispose();
    }

    public static HttpStatusCode? StatusOf(ClientWebSocket socket) => socket.HttpStatusCode == 0 ? null : socket.HttpStatusCode;
}
