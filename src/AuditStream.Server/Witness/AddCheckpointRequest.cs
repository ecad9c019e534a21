using System.Globalization;

namespace AuditStream.Server.Witness;

/// <summary>The body of a tlog-witness <c>add-checkpoint</c> request: old size, consistency proof, then the signed checkpoint.</summary>
internal sealed record AddCheckpointRequest(long OldSize, IReadOnlyList<byte[]> Proof, string Checkpoint)
{
    /// <summary>At most 63 proof lines (c2sp.org/tlog-witness §add-checkpoint).</summary>
    public const int MaxProofLines = 63;

    /// <summary>Formats a request, as the log's witness client sends it.</summary>
    public string Format()
    {
        var body = new System.Text.StringBuilder();
        body.Append("old ").Append(OldSize.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var hash in Proof)
        {
            body.Append(Convert.ToBase64String(hash)).Append('\n');
        }

        return body.Append('\n').Append(Checkpoint).ToString();
    }

    /// <summary>Parses a request body; the error names the line that is wrong.</summary>
    public static bool TryParse(string body, out AddCheckpointRequest? request, out string? error)
    {
        request = null;
        var blank = body.IndexOf("\n\n", StringComparison.Ordinal);
        if (blank < 0)
        {
            error = "the body must be the old size line, proof lines, an empty line and the checkpoint";
            return false;
        }

        var lines = body[..blank].Split('\n');
        if (!lines[0].StartsWith("old ", StringComparison.Ordinal)
            || !long.TryParse(lines[0].AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var oldSize)
            || (lines[0].Length > 5 && lines[0][4] == '0'))
        {
            error = "the first line must be 'old <size>' in decimal without leading zeroes";
            return false;
        }

        if (lines.Length - 1 > MaxProofLines)
        {
            error = $"at most {MaxProofLines} consistency proof lines are allowed";
            return false;
        }

        var proof = new List<byte[]>(lines.Length - 1);
        foreach (var line in lines.Skip(1))
        {
            var hash = new byte[32];
            if (!Convert.TryFromBase64String(line, hash, out var written) || written != 32 || Convert.ToBase64String(hash) != line)
            {
                error = $"proof line '{line}' is not a base64 SHA-256 hash";
                return false;
            }

            proof.Add(hash);
        }

        request = new AddCheckpointRequest(oldSize, proof, body[(blank + 2)..]);
        error = null;
        return true;
    }
}
