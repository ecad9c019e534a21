using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using RawLoopback;

// Raw loopback peer (issue 7): no auth, filters, JSON parsing or durable storage. POST /api/v1/events takes the load
// generator's NDJSON and writes each line, wrapped as an audit.event.published frame, to every WebSocket at /ws/audit.
// Usage: dotnet RawLoopback.dll --urls http://127.0.0.1:5092/ [--PadTo 723]
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var padTo = builder.Configuration.GetValue("PadTo", 723);
var app = builder.Build();
var broadcaster = new Broadcaster();
var frames = new FrameBuilder(padTo);

app.MapGet("/live", () => Results.Ok());
app.MapGet("/stats", () => Results.Ok(new { clients = broadcaster.Count, published = frames.Seq, dropped = broadcaster.Dropped }));

app.MapPost("/api/v1/events", async (HttpContext http) =>
{
    using var body = new MemoryStream();
    await http.Request.Body.CopyToAsync(body, http.RequestAborted);
    var batch = frames.Build(body.GetBuffer().AsSpan(0, (int)body.Length));
    broadcaster.Publish(batch);
    return Results.Created((string?)null, new { events = batch.Count });
});

app.MapGet("/ws/audit", async (HttpContext http) =>
{
    var upgrade = http.Features.Get<IHttpUpgradeFeature>();
    var key = http.Request.Headers.SecWebSocketKey.ToString();
    if (upgrade is null || !upgrade.IsUpgradableRequest || key.Length == 0)
    {
        http.Response.StatusCode = StatusCodes.Status400BadRequest;
        return;
    }

    // RFC 6455 §4.2.2: the accept value is SHA-1 of the key and the protocol GUID; it is not a security measure.
#pragma warning disable CA5350
    var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
    http.Response.StatusCode = StatusCodes.Status101SwitchingProtocols;
    http.Response.Headers.Connection = "Upgrade";
    http.Response.Headers.Upgrade = "websocket";
    http.Response.Headers.SecWebSocketAccept = accept;
    var stream = await upgrade.UpgradeAsync();
    await new RawClient(stream).RunAsync(broadcaster, FrameBuilder.Established, http.RequestAborted);
});

await app.RunAsync();
