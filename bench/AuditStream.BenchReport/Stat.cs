using System.Globalization;

namespace AuditStream.BenchReport;

/// <summary>Median with min and max of a set of run values (NaN values, i.e. missing figures, left out).</summary>
internal readonly record struct Stat(double Median, double Min, double Max, int Count)
{
    public static Stat Of(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        if (sorted.Length == 0)
        {
            return new Stat(double.NaN, double.NaN, double.NaN, 0);
        }

        var mid = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        return new Stat(median, sorted[0], sorted[^1], sorted.Length);
    }

    /// <summary>"median (min–max)", or just the median for one run or when all runs agree, or "–" when there is none.</summary>
    public string Format(string format) => Count switch
    {
        0 => "–",
        _ when Min.ToString(format, CultureInfo.InvariantCulture) == Max.ToString(format, CultureInfo.InvariantCulture) => Median.ToString(format, CultureInfo.InvariantCulture),
        _ => string.Create(CultureInfo.InvariantCulture, $"{Median.ToString(format, CultureInfo.InvariantCulture)} ({Min.ToString(format, CultureInfo.InvariantCulture)}–{Max.ToString(format, CultureInfo.InvariantCulture)})"),
    };
}
