using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AuditStream.Client.Tests.Support;

/// <summary>
/// A party in the middle on loopback: relays <c>/ws/audit</c> and the HTTP API to a real server and lets a test rewrite
/// each stream frame (<see cref="AlterFrame"/>) and each HTTP answer body (<see cref="AlterBody"/>) on the way back.
/// </summary>
internal sealed class AlteringProxy : IAsyncDisposable
{
    private readonly WebApplication _app;

    private AlteringProxy(WebApplication app, Uri target)
    {
        _app = app;
        Target = target;
    }

    public Uri Target { get; }

    public Uri BaseAddress => new(_app.Urls.First() + "/");

    /// <summary>Rewrites a server → client text frame.</summary>
    public Func<string, string> AlterFrame { get; set; } = f => f;

    /// <summary>Rewrites an HTTP answer body, given the request path and query.</summary>
    public Func<string, string, string> AlterBody { get; set; } = (_, b) => b;

    public static async Task<AlteringProxy> StartAsync(Uri target)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var proxy = new AlteringProxy(app, target);
        app.UseWebSockets();
        app.Run(proxy.RelayAsync);
        await app.StartAsync();
        return proxy;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private async Task RelayAsync(HttpContext http)
    {
        var pathAndQuery = http.Request.Path + http.Request.QueryString;
        var authorization = http.Request.Headers.Authorization.ToString();
        if (http.WebSockets.IsWebSocketRequest)
        {
            using var upstream = new ClientWebSocket();
            upstream.Options.SetRequestHeader("Authorization", authorization);
            await upstream.ConnectAsync(new Uri(Target.ToString().Replace("http://", "ws://", StringComparison.Ordinal).TrimEnd('/') + pathAndQuery), http.RequestAborted);
            using var downstream = await http.WebSockets.AcceptWebSocketAsync();
            using var done = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
            var up = PumpAsync(downstream, upstream, f => f, done.Token);
            var down = PumpAsync(upstream, downstream, AlterFrame, done.Token);
            await Task.WhenAny(up, down);
            await done.CancelAsync();
            return;
        }

        using var client = new HttpClient { BaseAddress = Target };
        using var request = new HttpRequestMessage(new HttpMethod(http.Request.Method), pathAndQuery.TrimStart('/'));
        if (authorization.Length > 0)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await client.SendAsync(request, http.RequestAborted);
        http.Response.StatusCode = (int)response.StatusCode;
        http.Response.ContentType = response.Content.Headers.ContentType?.ToString();
        await http.Response.WriteAsync(AlterBody(pathAndQuery, await response.Content.ReadAsStringAsync(http.RequestAborted)), http.RequestAborted);
    }

    private static async Task PumpAsync(WebSocket from, WebSocket to, Func<string, string> alter, CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 20];
        try
        {
            while (true)
            {
                var count = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await from.ReceiveAsync(buffer.AsMemory(count), cancellationToken);
                    count += result.Count;
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await to.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
                    return;
                }

                var text = alter(Encoding.UTF8.GetString(buffer, 0, count));
                await to.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
    }
}
