using AuditStream.Client;
using AuditStream.Events;

// Usage: SpoolHost <base address> <token> <spool directory>
// Enqueues events as fast as the spool takes them (the server may be up or down) and prints "<id>" for each one
// Enqueue accepted, until the process is killed.
var options = new AuditStreamClientOptions
{
    BaseAddress = new Uri(args[0]),
    Token = args[1],
    SpoolDirectory = args[2],
    SpoolSegmentBytes = 16 * 1024,
    BatchSize = 50,
    RetryMinDelay = TimeSpan.FromMilliseconds(20),
    RetryMaxDelay = TimeSpan.FromMilliseconds(200),
};
await using var client = new AuditStreamClient(new HttpClient(), options);
var stdout = Console.Out;
for (var i = 0; ; i++)
{
    var id = Guid.CreateVersion7();
    var accepted = client.Enqueue(new AuditEvent
    {
        Id = id,
        Type = "data.accessed",
        Severity = "info",
        Category = "data",
        ActorId = $"user-{i}",
    });
    if (accepted)
    {
        await stdout.WriteLineAsync(id.ToString());
        await stdout.FlushAsync();
    }

    if (i % 50 == 49)
    {
        await Task.Yield();
    }
}
