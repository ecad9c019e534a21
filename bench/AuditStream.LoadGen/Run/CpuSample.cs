using System.Diagnostics;

namespace AuditStream.LoadGen.Run;

/// <summary>CPU seconds of the server, this process (the producer), the subscriber processes and the whole box at one instant.</summary>
internal sealed record CpuSample(long Ticks, double Server, double Coordinator, double Subscribers, double BoxBusy)
{
    public static CpuSample Take(int serverPid, IEnumerable<SubscriberChild> children) => new(
        Stopwatch.GetTimestamp(),
        serverPid > 0 ? ProcStat.CpuSeconds(serverPid) : 0,
        ProcStat.CpuSeconds(Environment.ProcessId),
        children.Sum(c => ProcStat.CpuSeconds(c.Pid)),
        ProcStat.Box().Busy);
}
