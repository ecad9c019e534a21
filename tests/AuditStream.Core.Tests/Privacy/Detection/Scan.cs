using System.Text;
using AuditStream.Privacy.Detection;

namespace AuditStream.Core.Tests.Privacy.Detection;

internal static class Scan
{
    /// <summary>Every detection in <paramref name="text"/> as (kind, matched text).</summary>
    public static List<(PiiKind Kind, string Text)> All(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var found = new List<(PiiKind, string)>();
        var position = 0;
        while (PiiScanner.TryFindNext(bytes, ref position, out var match))
        {
            found.Add((match.Kind, Encoding.UTF8.GetString(bytes, match.Start, match.Length)));
        }

        return found;
    }
}
