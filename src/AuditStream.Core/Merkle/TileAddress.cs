using System.Globalization;
using System.Text;

namespace AuditStream.Merkle;

/// <summary>
/// A tile of the Merkle tree as C2SP tlog-tiles names it: <c>tile/&lt;L&gt;/&lt;N&gt;[.p/&lt;W&gt;]</c> (the hashes of
/// the nodes at height 8·L with indexes 256·N … 256·N + W − 1) or an entry bundle <c>tile/entries/&lt;N&gt;[.p/&lt;W&gt;]</c>.
/// </summary>
/// <param name="Level">0–63, or <see cref="EntriesLevel"/> for an entry bundle.</param>
/// <param name="Index">The tile's index in its level.</param>
/// <param name="Width">1–256 hashes (or entries); below 256 a partial tile.</param>
public readonly record struct TileAddress(int Level, long Index, int Width)
{
    /// <summary>Hashes in a full tile.</summary>
    public const int FullWidth = 256;

    /// <summary>The highest level a tile may have.</summary>
    public const int MaxLevel = 63;

    /// <summary>The <see cref="Level"/> of an entry bundle.</summary>
    public const int EntriesLevel = -1;

    /// <summary>The rule a tile path must follow, for error messages.</summary>
    public const string PathRule = "must be <L>/<N>[.p/<W>] or entries/<N>[.p/<W>] with L 0-63, N in 3-digit groups (all but the last prefixed x) and W 1-255 (C2SP tlog-tiles)";

    /// <summary>True for an entry bundle.</summary>
    public bool IsEntries => Level == EntriesLevel;

    /// <summary>True when fewer than <see cref="FullWidth"/> hashes.</summary>
    public bool IsPartial => Width < FullWidth;

    /// <summary>The path below <c>tile/</c>, e.g. <c>0/x001/x234/067.p/5</c>.</summary>
    public string Path
    {
        get
        {
            var path = new StringBuilder(IsEntries ? "entries" : Level.ToString(CultureInfo.InvariantCulture));
            var groups = new List<string>();
            var n = Index;
            do
            {
                groups.Add((n % 1000).ToString("000", CultureInfo.InvariantCulture));
                n /= 1000;
            }
            while (n > 0);

            for (var i = groups.Count - 1; i >= 0; i--)
            {
                path.Append('/').Append(i > 0 ? "x" : "").Append(groups[i]);
            }

            return IsPartial ? path.Append(".p/").Append(Width.ToString(CultureInfo.InvariantCulture)).ToString() : path.ToString();
        }
    }

    /// <summary>Parses the path below <c>tile/</c> in its one canonical spelling (so a cache never holds two names for one tile).</summary>
    public static bool TryParse(string path, out TileAddress tile)
    {
        ArgumentNullException.ThrowIfNull(path);
        tile = default;
        var parts = path.Split('/');
        if (parts.Length < 2)
        {
            return false;
        }

        int level;
        if (parts[0] == "entries")
        {
            level = EntriesLevel;
        }
        else if (!TryDecimal(parts[0], MaxLevel, out level))
        {
            return false;
        }

        // A partial tile: the last index group carries ".p" and one more segment follows, the width.
        var width = FullWidth;
        var groups = parts[1..];
        if (parts.Length >= 3 && parts[^2].EndsWith(".p", StringComparison.Ordinal))
        {
            if (!TryDecimal(parts[^1], FullWidth - 1, out width) || width == 0)
            {
                return false;
            }

            groups = parts[1..^1];
            groups[^1] = groups[^1][..^2];
        }

        long index = 0;
        for (var g = 0; g < groups.Length; g++)
        {
            var group = groups[g];
            if (g < groups.Length - 1)
            {
                if (!group.StartsWith('x'))
                {
                    return false;
                }

                group = group[1..];
            }

            // No leading zero group (x000/…), and no index past what a long holds.
            if (group.Length != 3 || !group.All(char.IsAsciiDigit) || (g == 0 && groups.Length > 1 && group == "000") || index > (long.MaxValue / 1000) - 1)
            {
                return false;
            }

            index = (index * 1000) + int.Parse(group, CultureInfo.InvariantCulture);
        }

        tile = new TileAddress(level, index, width);
        return true;
    }

    private static bool TryDecimal(string text, int max, out int value)
    {
        value = 0;
        if (text.Length == 0 || text.Length > 3 || (text.Length > 1 && text[0] == '0') || !text.All(char.IsAsciiDigit))
        {
            return false;
        }

        value = int.Parse(text, CultureInfo.InvariantCulture);
        return value <= max;
    }
}
