using System.Text.Json;
using AuditStream.Events;
using AuditStream.Ledger;
using AuditStream.Sinks.Runtime;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuditStream.Sinks.Tests.Support;

/// <summary>A real ledger and <c>sinks.db</c> in a temp directory, reopenable to simulate a restart.</summary>
public sealed class LedgerFixture : IAsyncDisposable
{
    private readonly TimeProvider? _time;

    private LedgerFixture(string directory, TimeProvider? time)
    {
        Directory = directory;
        _time = time;
    }

    public string Directory { get; }

    public AuditLedger Ledger { get; private set; } = null!;

    public SinkStateStore State { get; private set; } = null!;

    /// <summary>Opens a fresh ledger; <paramref name="time"/> (default: the system clock) stamps its commits.</summary>
    public static async Task<LedgerFixture> OpenAsync(TimeProvider? time = null)
    {
        var fixture = new LedgerFixture(Path.Combine(Path.GetTempPath(), "auditstream-sinks-tests", Guid.NewGuid().ToString("N")), time);
        await fixture.ReopenAsync(first: true);
        return fixture;
    }

    /// <summary>Closes and opens the ledger and the state store again, as a server restart does.</summary>
    public async Task ReopenAsync(bool first = false)
    {
        if (!first)
        {
            await CloseAsync();
        }

        Ledger = await AuditLedger.OpenAsync(new LedgerOptions { DataDirectory = Directory, CheckpointInterval = TimeSpan.FromMinutes(5) }, timeProvider: _time);
        State = await SinkStateStore.OpenAsync(Directory);
    }

    public SinkRunner Runner(IAuditSink sink, SinkOptions options) =>
        new(sink, options, Ledger, State, TimeProvider.System, NullLogger.Instance);

    /// <summary>Appends <paramref name="count"/> events (see <see cref="Event"/>) and returns them as committed.</summary>
    public async Task<IReadOnlyList<AuditEvent>> AppendAsync(int count, Func<int, AuditEvent>? make = null)
    {
        var events = Enumerable.Range(0, count).Select(i => (make ?? Event)(i)).ToList();
        var result = await Ledger.AppendAsync(events, "acme");
        Assert.False(result.IsInvalid, string.Join("; ", result.Errors));
        return events;
    }

    public static AuditEvent Event(int i) => new()
    {
        Id = Guid.CreateVersion7(),
        Type = i % 3 == 0 ? "auth.failure" : "data.accessed",
        Severity = i % 10 == 0 ? "critical" : "info",
        Category = i % 3 == 0 ? "security" : "data",
        ActorId = "user-" + (i % 7),
        ActorType = "user",
        TargetId = "record-" + i,
        TargetType = "customer_record",
        Action = "read",
        Outcome = i % 3 == 0 ? "failure" : "success",
        OccurredAt = DateTimeOffset.UtcNow,
        TenantId = "acme",
        Source = new EventSource { Service = "billing-api", Ip = "10.1.2." + (i % 5) },
        Metadata = JsonDocument.Parse("""{"region":"eu-west-1"}""").RootElement.Clone(),
    };

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task CloseAsync()
    {
        await State.DisposeAsync();
        await Ledger.DisposeAsync();
    }
}
