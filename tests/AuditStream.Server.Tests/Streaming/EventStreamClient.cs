using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Streaming;

/// <summary>A Server-Sent Events reader over HttpClient on /api/v1/stream, every wait bounded.</summary>
internal sealed class EventStreamClient : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private EventStreamClient(HttpClient http, HttpResponseMessage response, StreamReader reader)
    {
        _http = http;
        _response = response;
        _reader = reader;
    }

    public HttpResponseMessage Response => _response;

    /// <summary>Sends the request and returns once the response headers arrived (whatever the status).</summary>
    /// <remarks><paramref name="receiveBufferBytes"/> shrinks the client's TCP receive buffer so a client that does not read blocks the server quickly.</remarks>
    public static async Task<EventStreamClient> ConnectAsync(TestServer server, string? token, string query = "", string? lastEventId = null, int? receiveBufferBytes = null)
    {
        var http = receiveBufferBytes is { } bytes
            ? new HttpClient(new SocketsHttpHandler
            {
                ConnectCallback = async (context, cancellationToken) =>
                {
                    var tcp = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = bytes };
                    await tcp.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(tcp, ownsSocket: true);
                },
            }) { BaseAddress = server.BaseAddress }
            : server.Client();
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        http.Timeout = Timeout.InfiniteTimeSpan;
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/stream" + query);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        using var cts = new CancellationTokenSource(StreamClient.Timeout);
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
        return new EventStreamClient(http, response, reader);
    }

    /// <summary>Connects and reads the first event, which must be audit.connection.established.</summary>
    public static async Task<EventStreamClient> ConnectEstablishedAsync(TestServer server, string? token, string query = "", string? lastEventId = null)
    {
        var client = await ConnectAsync(server, token, query, lastEventId);
        client.Established = await client.ExpectEstablishedAsync();
        return client;
    }

    public JsonNode? Established { get; private set; }

    private async Task<JsonNode> ExpectEstablishedAsync()
    {
        var client = this;
        Assert.Equal("text/event-stream", client.Response.Content.Headers.ContentType?.MediaType);
        var established = await client.ReceiveAsync();
        Assert.Equal("audit.connection.established", established.Event);
        Assert.Null(established.Id);
        return established.Data;
    }

    /// <summary>Connects with a small TCP receive buffer and reads audit.connection.established.</summary>
    public static async Task<EventStreamClient> ConnectSlowAsync(TestServer server, string token, int receiveBufferBytes)
    {
        var client = await ConnectAsync(server, token, receiveBufferBytes: receiveBufferBytes);
        client.Established = await client.ExpectEstablishedAsync();
        return client;
    }

    /// <summary>Reads to the end of the stream, returning the names of the events read; fails after the timeout.</summary>
    public async Task<List<string>> ReadToEndAsync()
    {
        using var cts = new CancellationTokenSource(StreamClient.Timeout);
        var names = new List<string>();
        while (await _reader.ReadLineAsync(cts.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                names.Add(line["event: ".Length..]);
            }
        }

        return names;
    }

    /// <summary>The rest of the body as text (a refusal's problem details); fails after the timeout.</summary>
    public async Task<string> ReadBodyAsync()
    {
        using var cts = new CancellationTokenSource(StreamClient.Timeout);
        return await _reader.ReadToEndAsync(cts.Token);
    }

    /// <summary>The next event (id, event name, parsed data); fails when the stream ends or after the timeout.</summary>
    public async Task<(string? Id, string Event, JsonNode Data)> ReceiveAsync()
    {
        using var cts = new CancellationTokenSource(StreamClient.Timeout);
        string? id = null;
        string? name = null;
        string? data = null;
        while (true)
        {
            var line = await _reader.ReadLineAsync(cts.Token);
            Assert.True(line is not null, "The server ended the event stream.");
            if (line!.Length == 0)
            {
                if (data is null)
                {
                    continue;
                }

                var json = JsonNode.Parse(data)!;
                Assert.Equal(name, json["type"]!.GetValue<string>());
                return (id, name!, json);
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id": id = value; break;
                case "event": name = value; break;
                case "data": data = data is null ? value : data + "\n" + value; break;
            }
        }
    }

    /// <summary>Reads audit.event.published events until one with <paramref name="seq"/>, checking id = seq, returning every seq (in order).</summary>
    public async Task<List<long>> ReceiveSeqsThroughAsync(long seq)
    {
        var seqs = new List<long>();
        while (seqs.Count == 0 || seqs[^1] < seq)
        {
            var (id, name, data) = await ReceiveAsync();
            Assert.Equal("audit.event.published", name);
            var received = data["seq"]!.GetValue<long>();
            Assert.Equal(received.ToString(System.Globalization.CultureInfo.InvariantCulture), id);
            seqs.Add(received);
        }

        return seqs;
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
