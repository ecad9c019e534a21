using AuditStream.Ledger.Verification;

namespace AuditStream.Server.Cli;

/// <summary>
/// The one-line progress display of a long <c>auditstream verify</c>, on standard error, redrawn at most twice a
/// second; created only when standard error is a terminal and <c>--quiet</c> is not given.
/// </summary>
internal sealed class VerifyProgress(TextWriter output, TimeProvider time) : IProgress<VerificationProgress>
{
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(500);
    private readonly long _started = time.GetTimestamp();
    private long _lastDrawn = long.MinValue;
    private bool _drawn;

    /// <summary>A display on the console's standard error, or null when it is redirected or <paramref name="quiet"/>.</summary>
    public static VerifyProgress? ForConsole(bool quiet) =>
        quiet || Console.IsErrorRedirected ? null : new VerifyProgress(Console.Error, TimeProvider.System);

    /// <inheritdoc />
    public void Report(VerificationProgress value)
    {
        var now = time.GetTimestamp();
        if (_drawn && time.GetElapsedTime(_lastDrawn, now) < s_interval)
        {
            return;
        }

        _lastDrawn = now;
        _drawn = true;
        var seconds = Math.Max(time.GetElapsedTime(_started, now).TotalSeconds, 1e-3);
        var percent = value.EventsTotal == 0 ? 100 : 100.0 * value.EventsChecked / value.EventsTotal;
        output.Write($"\rverified {value.EventsChecked:N0} of {value.EventsTotal:N0} events ({percent:F0} %, {value.EventsChecked / seconds:N0}/s)   ");
    }

    /// <summary>Clears the line so the verdict starts at the margin.</summary>
    public void Finish()
    {
        if (_drawn)
        {
            output.Write("\r" + new string(' ', 79) + "\r");
        }
    }
}
