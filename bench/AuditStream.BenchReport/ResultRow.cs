using System.Globalization;

namespace AuditStream.BenchReport;

/// <summary>One row of results.csv: the system and run index bench/run.sh adds, then the load generator's columns by name.</summary>
internal sealed record ResultRow(string System, int Run, string Scenario, IReadOnlyDictionary<string, string> Fields)
{
    /// <summary>The systems in the order tables and plots show them; others follow in order of appearance.</summary>
    public static readonly string[] KnownSystems = ["auditstream", "signalr", "nats", "raw"];

    /// <summary>A numeric column, or NaN when empty or absent.</summary>
    public double this[string column] =>
        Fields.TryGetValue(column, out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : double.NaN;

    public static List<ResultRow> Read(string path)
    {
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
        if (lines.Length == 0)
        {
            return [];
        }

        var header = lines[0].Split(',');
        var rows = new List<ResultRow>();
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            if (cells.Length != header.Length)
            {
                throw new InvalidDataException($"{path}: a row has {cells.Length} fields where the header has {header.Length}: {line}");
            }

            var fields = header.Zip(cells).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
            rows.Add(new ResultRow(fields["system"], int.Parse(fields["run"], CultureInfo.InvariantCulture), fields["scenario"], fields));
        }

        return rows;
    }

    public static IEnumerable<string> Systems(IEnumerable<ResultRow> rows)
    {
        var present = rows.Select(r => r.System).Distinct().ToList();
        return KnownSystems.Where(present.Contains).Concat(present.Where(s => !KnownSystems.Contains(s)));
    }

    public static IEnumerable<string> Scenarios(IEnumerable<ResultRow> rows) => rows.Select(r => r.Scenario).Distinct();
}
