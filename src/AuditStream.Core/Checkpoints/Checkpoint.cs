using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace AuditStream.Checkpoints;

/// <summary>
/// A transparency log tree head in c2sp.org/tlog-checkpoint form: which log (origin), how many leaves, and the
/// RFC 6962 root hash at that size. Signed as the text of a signed note.
/// </summary>
public sealed record Checkpoint
{
    /// <summary>Size of a SHA-256 root hash.</summary>
    public const int RootHashSize = 32;

    /// <summary>Creates a checkpoint; the root hash is copied.</summary>
    /// <exception cref="ArgumentException">A field would not survive <see cref="ToNoteText"/> and <see cref="TryParse"/>.</exception>
    public Checkpoint(string origin, long treeSize, ReadOnlySpan<byte> rootHash, IReadOnlyList<string>? extensions = null)
    {
        ArgumentNullException.ThrowIfNull(origin);
        if (DescribeInvalidLine(origin) is { } originProblem)
        {
            throw new ArgumentException($"The origin {originProblem}.", nameof(origin));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(treeSize);
        if (rootHash.Length != RootHashSize)
        {
            throw new ArgumentException($"The root hash must be {RootHashSize} bytes, not {rootHash.Length}.", nameof(rootHash));
        }

        var copiedExtensions = extensions is null ? [] : extensions.ToArray();
        foreach (var extension in copiedExtensions)
        {
            ArgumentNullException.ThrowIfNull(extension, nameof(extensions));
            if (DescribeInvalidLine(extension) is { } problem)
            {
                throw new ArgumentException($"An extension line {problem}.", nameof(extensions));
            }
        }

        Origin = origin;
        TreeSize = treeSize;
        RootHash = rootHash.ToArray();
        Extensions = copiedExtensions;
    }

    /// <summary>The log's identity, e.g. <c>auditstream.example/ledger</c>; also its signing key's name.</summary>
    public string Origin { get; }

    /// <summary>The number of leaves (ledger records) the tree covers; 0 for an empty tree.</summary>
    public long TreeSize { get; }

    /// <summary>The 32-byte RFC 6962 Merkle tree root at <see cref="TreeSize"/>. Treat as read-only.</summary>
    public byte[] RootHash { get; }

    /// <summary>Opaque extension lines after the root hash (tlog-checkpoint §Note text: NOT RECOMMENDED); usually empty.</summary>
    public IReadOnlyList<string> Extensions { get; }

    /// <summary>The note text: origin, tree size, base64 root hash and extension lines, each ending in a newline.</summary>
    public string ToNoteText()
    {
        var builder = new StringBuilder();
        builder.Append(Origin).Append('\n')
            .Append(TreeSize.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append(Convert.ToBase64String(RootHash)).Append('\n');
        foreach (var extension in Extensions)
        {
            builder.Append(extension).Append('\n');
        }

        return builder.ToString();
    }

    /// <summary>
    /// Parses checkpoint note text (c2sp.org/tlog-checkpoint §Note text). On failure <paramref name="error"/>
    /// says which line is wrong and why. Parsing does not verify anything; open the signed note first.
    /// </summary>
    public static bool TryParse(
        string? text,
        [NotNullWhen(true)] out Checkpoint? checkpoint,
        [NotNullWhen(false)] out string? error)
    {
        checkpoint = null;
        if (string.IsNullOrEmpty(text) || text[^1] != '\n')
        {
            error = "checkpoint text must end with a newline";
            return false;
        }

        var lines = text[..^1].Split('\n');
        if (lines.Length < 3)
        {
            error = $"checkpoint text has {lines.Length} line(s); origin, tree size and root hash are required";
            return false;
        }

        for (var i = 0; i < lines.Length; i++)
        {
            if (DescribeInvalidLine(lines[i]) is { } problem)
            {
                error = $"line {i + 1} {problem}";
                return false;
            }
        }

        if (!TryParseTreeSize(lines[1], out var treeSize, out error))
        {
            return false;
        }

        if (!NoteFormat.TryDecodeBase64(lines[2], out var rootHash))
        {
            error = "root hash (line 3) is not canonical base64";
            return false;
        }

        if (rootHash.Length != RootHashSize)
        {
            error = $"root hash (line 3) is {rootHash.Length} bytes, not {RootHashSize}";
            return false;
        }

        checkpoint = new Checkpoint(lines[0], treeSize, rootHash, lines[3..]);
        error = null;
        return true;
    }

    /// <summary>Value equality, comparing the root hash and extension lines by content.</summary>
    public bool Equals(Checkpoint? other) =>
        other is not null
        && string.Equals(Origin, other.Origin, StringComparison.Ordinal)
        && TreeSize == other.TreeSize
        && RootHash.AsSpan().SequenceEqual(other.RootHash)
        && Extensions.SequenceEqual(other.Extensions, StringComparer.Ordinal);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Origin, StringComparer.Ordinal);
        hash.Add(TreeSize);
        hash.AddBytes(RootHash);
        return hash.ToHashCode();
    }

    /// <summary>The checkpoint in one line, for logs.</summary>
    public override string ToString() => $"{Origin} @ {TreeSize} {Convert.ToBase64String(RootHash)}";

    // tlog-checkpoint §Note text: tree size in ASCII decimal, no leading zeroes unless it is 0.
    private static bool TryParseTreeSize(string line, out long treeSize, [NotNullWhen(false)] out string? error)
    {
        treeSize = 0;
        foreach (var c in line)
        {
            if (!char.IsAsciiDigit(c))
            {
                error = "tree size (line 2) is not an unsigned decimal number";
                return false;
            }
        }

        if (line.Length > 1 && line[0] == '0')
        {
            error = "tree size (line 2) has a leading zero";
            return false;
        }

        if (!long.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out treeSize))
        {
            error = "tree size (line 2) is larger than the largest supported tree";
            return false;
        }

        error = null;
        return true;
    }

    // Every line is non-empty (tlog-checkpoint §Note text) and fits in note text (signed-note §Format).
    private static string? DescribeInvalidLine(string line)
    {
        if (line.Length == 0)
        {
            return "is empty";
        }

        return line.Contains('\n') || NoteFormat.FindInvalidTextChar(line) >= 0
            ? "contains a newline, control character or invalid UTF-16"
            : null;
    }
}
