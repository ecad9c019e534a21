using System.Globalization;

namespace AuditStream.LoadGen.Produce;

/// <summary>The event types the producer cycles through; subscribers of a selective run filter on one of them.</summary>
internal static class EventTypes
{
    /// <summary>Type of index <paramref name="index"/> out of <paramref name="count"/> (one type: <c>bench.event</c>).</summary>
    public static string Name(int index, int count) =>
        count <= 1 ? "bench.event" : "bench.t" + index.ToString("D3", CultureInfo.InvariantCulture);
}
