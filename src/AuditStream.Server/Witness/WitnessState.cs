using System.Text.Json;

namespace AuditStream.Server.Witness;

/// <summary>
/// The witness's memory: the latest cosigned size and root per log origin, in one JSON file rewritten atomically
/// (temporary file, then rename) before a cosignature is returned (c2sp.org/tlog-witness §add-checkpoint).
/// </summary>
internal sealed class WitnessState
{
    private readonly string _path;
    private readonly Dictionary<string, LogHead> _heads;

    private WitnessState(string path, Dictionary<string, LogHead> heads)
    {
        _path = path;
        _heads = heads;
    }

    /// <summary>Loads the file at <paramref name="path"/>, or starts empty when there is none.</summary>
    public static WitnessState Load(string path)
    {
        path = Path.GetFullPath(path);
        if (!File.Exists(path))
        {
            return new WitnessState(path, new Dictionary<string, LogHead>(StringComparer.Ordinal));
        }

        var stored = JsonSerializer.Deserialize(File.ReadAllBytes(path), WitnessJsonContext.Default.DictionaryStringLogHead)
            ?? throw new InvalidDataException($"The witness state file {path} is empty.");
        return new WitnessState(path, new Dictionary<string, LogHead>(stored, StringComparer.Ordinal));
    }

    /// <summary>The latest cosigned head of <paramref name="origin"/>, or size 0 when it never cosigned one.</summary>
    public LogHead Head(string origin) => _heads.TryGetValue(origin, out var head) ? head : new LogHead(0, Convert.ToBase64String(AuditStream.Merkle.MerkleHash.EmptyRoot));

    /// <summary>Records and persists a new head; the caller holds the lock that made the check and this update atomic.</summary>
    public void Save(string origin, LogHead head)
    {
        _heads[origin] = head;
        var directory = Path.GetDirectoryName(_path)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(_path)}.{Guid.NewGuid():N}.tmp");
        using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
        {
            JsonSerializer.Serialize(file, _heads, WitnessJsonContext.Default.DictionaryStringLogHead);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, _path, overwrite: true);
    }
}

/// <summary>A log's latest cosigned tree head.</summary>
/// <param name="Size">Tree size.</param>
/// <param name="Root">Root hash, base64.</param>
internal sealed record LogHead(long Size, string Root);

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, LogHead>))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
internal sealed partial class WitnessJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
