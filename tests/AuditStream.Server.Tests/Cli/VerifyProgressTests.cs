using AuditStream.Ledger.Verification;
using AuditStream.Server.Cli;
using Microsoft.Extensions.Time.Testing;

namespace AuditStream.Server.Tests.Cli;

public sealed class VerifyProgressTests
{
    [Fact]
    public void The_progress_line_is_redrawn_at_most_twice_a_second_and_cleared_at_the_end()
    {
        var time = new FakeTimeProvider();
        var output = new StringWriter();
        var progress = new VerifyProgress(output, time);

        progress.Report(new VerificationProgress(4_096, 10_000));
        progress.Report(new VerificationProgress(8_192, 10_000));
        time.Advance(TimeSpan.FromSeconds(1));
        progress.Report(new VerificationProgress(10_000, 10_000));
        progress.Finish();

        var draws = output.ToString().Split('\r', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("verified 4,096 of 10,000 events (41 %", draws[0], StringComparison.Ordinal);
        Assert.Contains("verified 10,000 of 10,000 events (100 %, 10,000/s)", draws[1], StringComparison.Ordinal);
        Assert.DoesNotContain(draws, d => d.Contains("8,192", StringComparison.Ordinal));
        Assert.True(string.IsNullOrWhiteSpace(draws[^1]));
    }

    [Fact]
    public void Quiet_gives_no_progress_display()
    {
        Assert.Null(VerifyProgress.ForConsole(quiet: true));
    }
}
