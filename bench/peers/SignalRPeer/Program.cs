using System.Text.Json;
using System.Threading.Channels;
using AuditStream.Bench.Peers;
using Microsoft.AspNetCore.SignalR;
using SignalRPeer;

// SignalR peer (issue 7): the baseline a .NET team would write. POST /api/v1/events takes the load generator's batch
// (NDJSON, or a JSON array), queues it and answers 201 at once (unless 2 batches already wait), and a background loop
// broadcasts each event in order with Clients.All.SendAsync("event", element) on the hub at /hub (JSON hub protocol;
// subscribers connect with WebSockets and skip negotiation). Each event is wrapped in the same padded envelope as the
// other peers (PublishedEnvelope).
// Usage: dotnet SignalRPeer.dll --urls http://127.0.0.1:5093/ [--PadTo 723] [--QueueBatches 2]
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSignalR();
var padTo = builder.Configuration.GetValue("PadTo", PublishedEnvelope.DefaultSize);
// Batches waiting for the broadcast loop: when it falls this far behind, POSTs wait (back-pressure instead of memory
// and of a backlog that would turn latency into queueing time; at a fixed rate a batch is 5 ms of events).
var queue = Channel.CreateBounded<JsonElement[]>(new BoundedChannelOptions(builder.Configuration.GetValue("QueueBatches", 2)) { SingleReader = true });
builder.Services.AddSingleton(queue);
builder.Services.AddHostedService<Broadcaster>();
var app = builder.Build();
long seq = 0;

app.MapHub<EventHub>("/hub");
app.MapGet("/live", () => Results.Ok());
app.MapPost("/api/v1/events", async (HttpContext http) =>
{
    using var body = new MemoryStream();
    await http.Request.Body.CopyToAsync(body, http.RequestAborted);
    var bytes = body.GetBuffer().AsSpan(0, (int)body.Length);
    var events = Events(bytes, padTo, ref seq);
    await queue.Writer.WriteAsync(events, http.RequestAborted);
    return Results.Created((string?)null, new { events = events.Length });
});

await app.RunAsync();

// Each event of the body (a JSON array or NDJSON lines) in its padded envelope, parsed into a JsonElement.
static JsonElement[] Events(ReadOnlySpan<byte> body, int padTo, ref long seq)
{
    var trimmed = body.TrimStart(" \t\r\n"u8);
    var lines = new List<byte[]>();
    if (trimmed.Length > 0 && trimmed[0] == (byte)'[')
    {
        foreach (var element in JsonSerializer.Deserialize<JsonElement[]>(trimmed) ?? [])
        {
            lines.Add(JsonSerializer.SerializeToUtf8Bytes(element));
        }
    }
    else
    {
        foreach (var range in PublishedEnvelope.Lines(body))
        {
            lines.Add(body[range].ToArray());
        }
    }

    var first = Interlocked.Add(ref seq, lines.Count) - lines.Count + 1;
    var events = new JsonElement[lines.Count];
    for (var i = 0; i < lines.Count; i++)
    {
        var envelope = new byte[PublishedEnvelope.MaxSize(lines[i].Length, padTo)];
        var length = PublishedEnvelope.Write(lines[i], first + i, padTo, envelope);
        events[i] = JsonSerializer.Deserialize<JsonElement>(envelope.AsSpan(0, length));
    }

    return events;
}
