using System.Globalization;

namespace AuditStream.Benchmarks;

/// <summary>--key value pairs of a scenario.</summary>
internal sealed class BenchArgs(Dictionary<string, string> values)
{
    public static BenchArgs Parse(IEnumerable<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        string? key = null;
        foreach (var arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                key = arg[2..];
                values[key] = "true";
            }
            else if (key is not null)
            {
                values[key] = arg;
                key = null;
            }
        }

        return new BenchArgs(values);
    }

    public int Int(string key, int fallback) => values.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public long Long(string key, long fallback) => values.TryGetValue(key, out var v) ? long.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public bool Flag(string key) => values.ContainsKey(key);

    public string? String(string key) => values.GetValueOrDefault(key);
}
