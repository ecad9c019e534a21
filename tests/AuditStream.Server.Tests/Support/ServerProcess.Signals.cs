using System.Diagnostics;
using System.Globalization;

namespace AuditStream.Server.Tests.Support;

/// <summary>Freezing and thawing the server process, as a long GC pause, a stopped VM or a partition looks to the others.</summary>
internal sealed partial class ServerProcess
{
    /// <summary>Sends SIGSTOP: the process keeps its sockets open but runs nothing until <see cref="ResumeAsync"/>.</summary>
    public Task PauseAsync() => SignalAsync("STOP");

    /// <summary>Sends SIGCONT to a process stopped by <see cref="PauseAsync"/>.</summary>
    public Task ResumeAsync() => SignalAsync("CONT");

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, _process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {_process.Id} exited with {kill.ExitCode}");
        }
    }
}
