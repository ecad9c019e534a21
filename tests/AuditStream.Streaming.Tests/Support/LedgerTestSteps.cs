using AuditStream.Events;
using AuditStream.Ledger;

namespace AuditStream.Streaming.Tests.Support;

/// <summary>Steps the fan-out and connection tests share: append plain events to a real ledger, wait on a condition.</summary>
internal static class LedgerTestSteps
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Appends <paramref name="count"/> acme <c>data.accessed</c> events (actors u0…) and asserts they were accepted.</summary>
    public static async Task AppendAsync(AuditLedger ledger, int count)
    {
        var result = await ledger.AppendAsync(
            [.. Enumerable.Range(0, count).Select(i => new AuditEvent { Type = "data.accessed", Severity = "info", Category = "data", ActorId = $"u{i}", Action = "read", Outcome = "success", TenantId = "acme" })]);
        Assert.False(result.IsInvalid, string.Join("; ", result.Errors));
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; throws (cancelled) after <see cref="Timeout"/>.</summary>
    public static async Task WaitForAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (!condition())
        {
            await Task.Delay(5, timeout.Token);
        }
    }
}
