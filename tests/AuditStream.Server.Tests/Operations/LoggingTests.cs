using System.Collections.Concurrent;
using System.Net.WebSockets;
using AuditStream.Server.Tests.Streaming;
using AuditStream.Server.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuditStream.Server.Tests.Operations;

public sealed class LoggingTests
{
    [Fact]
    public async Task Connections_refusals_auth_failures_and_disconnects_are_logged_with_event_ids_and_remote_address_but_no_token()
    {
        var sink = new RecordingLoggerProvider();
        await using var server = await TestServer.StartAsync(
            new Dictionary<string, string?> { ["Logging:LogLevel:AuditStream"] = "Information" },
            s => s.AddSingleton<ILoggerProvider>(sink));
        var token = server.Token("admin", "*");
        var (client, established) = await StreamClient.ConnectEstablishedAsync(server, token);
        var clientId = established["client_id"]!.GetValue<string>();
        await client.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        await client.DisposeAsync();

        const string badToken = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.c2lnbmF0dXJlLW5vdC12YWxpZA";
        using (var socket = new ClientWebSocket())
        {
            await Assert.ThrowsAnyAsync<WebSocketException>(() => socket.ConnectAsync(StreamClient.Address(server, "?token=" + badToken), CancellationToken.None));
        }

        using (var anonymous = server.Client())
        using (await anonymous.GetAsync("api/v1/events"))
        {
        }

        var closed = await sink.WaitForAsync("StreamClientClosed");
        Assert.Equal(clientId, closed.State["ClientId"]);
        Assert.Equal("127.0.0.1", closed.State["RemoteAddress"]);
        Assert.Equal("client_closed", closed.State["Reason"]);
        var opened = await sink.WaitForAsync("StreamClientOpened");
        Assert.Equal(10, opened.EventId.Id);
        Assert.Equal(clientId, opened.State["ClientId"]);
        Assert.Equal("127.0.0.1", opened.State["RemoteAddress"]);

        var failed = await sink.WaitForAsync("AuthenticationFailed");
        Assert.Equal("127.0.0.1", failed.State["RemoteAddress"]);
        Assert.Equal("/ws/audit", failed.State["Path"]);
        var refused = await sink.WaitForAsync("StreamConnectionRefused");
        Assert.Equal(401, refused.State["Status"]);
        Assert.Contains(sink.Entries, e => e.EventId.Name == "AuthenticationFailed" && (string?)e.State["Reason"] == "no token" && (string?)e.State["Path"] == "/api/v1/events");

        foreach (var entry in sink.Entries)
        {
            Assert.DoesNotContain(token, entry.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(badToken, entry.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(badToken[..20], entry.Message, StringComparison.Ordinal);
        }
    }

    internal sealed record Entry(string Category, EventId EventId, string Message, IReadOnlyDictionary<string, object?> State);

    internal sealed class RecordingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<Entry> _entries = new();
        private readonly SemaphoreSlim _logged = new(0);

        public IEnumerable<Entry> Entries => _entries;

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public async Task<Entry> WaitForAsync(string eventName)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while (true)
            {
                if (_entries.FirstOrDefault(e => e.EventId.Name == eventName) is { } found)
                {
                    return found;
                }

                await _logged.WaitAsync(timeout.Token);
            }
        }

        public void Dispose() => _logged.Dispose();

        private sealed class Logger(RecordingLoggerProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                    ? pairs.ToDictionary(p => p.Key, p => p.Value)
                    : [];
                provider._entries.Enqueue(new Entry(category, eventId, formatter(state, exception), values));
                provider._logged.Release();
            }
        }
    }
}
