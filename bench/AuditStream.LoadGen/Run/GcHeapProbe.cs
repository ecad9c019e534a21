using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace AuditStream.LoadGen.Run;

/// <summary>
/// The managed heap of another .NET process after a full, blocking collection, over its diagnostics IPC channel: an
/// EventPipe session with the runtime's <c>GCHeapCollect</c> keyword makes the runtime run an induced gen-2 GC (what
/// <c>dotnet-gcdump</c> does), and that GC's <c>GCHeapStats</c> event gives the size of every generation after it.
/// </summary>
internal static class GcHeapProbe
{
    private const long GcHeapCollectKeyword = 0x800000;

    /// <summary>Total GC heap bytes (gen0–2, LOH, POH) after an induced full GC, or null if none was seen in time.</summary>
    public static async Task<long?> MeasureAsync(int pid, TimeSpan timeout)
    {
        var client = new DiagnosticsClient(pid);
        var provider = new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational,
            (long)ClrTraceEventParser.Keywords.GC | GcHeapCollectKeyword);
        using var session = await client.StartEventPipeSessionAsync([provider], requestRundown: false, circularBufferMB: 64, CancellationToken.None);
        using var source = new EventPipeEventSource(session.EventStream);
        long? heap = null;
        var inducedFull = false;
        source.Clr.GCStart += e => inducedFull = e.Depth == 2 && e.Reason == GCReason.Induced;
        source.Clr.GCHeapStats += e =>
        {
            if (inducedFull && heap is null)
            {
                heap = e.GenerationSize0 + e.GenerationSize1 + e.GenerationSize2 + e.GenerationSize3 + e.GenerationSize4;
                _ = session.StopAsync(CancellationToken.None);
            }
        };

        var processing = Task.Run(source.Process);
        try
        {
            await processing.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            await session.StopAsync(CancellationToken.None);
        }

        return heap;
    }
}
