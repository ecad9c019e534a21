using ScottPlot;

namespace AuditStream.BenchReport;

/// <summary>PNG plots with ScottPlot: delivered msgs/s per scenario and system, and one latency-percentile chart per scenario.</summary>
internal static class Plots
{
    private static readonly (string Column, string Label)[] s_percentiles =
        [("p50_ms", "p50"), ("p90_ms", "p90"), ("p99_ms", "p99"), ("p999_ms", "p99.9"), ("max_ms", "max")];

    /// <summary>Writes the plots into <paramref name="folder"/>; returns (title, file name) of each.</summary>
    public static List<(string Title, string File)> Write(List<ResultRow> rows, string folder)
    {
        var written = new List<(string, string)>();
        var systems = ResultRow.Systems(rows).ToArray();
        var palette = new ScottPlot.Palettes.Category10();
        var loaded = ResultRow.Scenarios(rows).Where(s => rows.Any(r => r.Scenario == s && r["delivered_per_s"] > 0)).ToArray();
        if (loaded.Length > 0)
        {
            var groups = loaded.Select(s => systems.Select(system => Stat.Of(rows.Where(r => r.Scenario == s && r.System == system).Select(r => r["delivered_per_s"])).Median).ToArray()).ToArray();
            Grouped(groups, loaded, systems, palette, "Delivered messages/s (median of runs)", "msgs/s", log: false).SavePng(Path.Combine(folder, "throughput.png"), 1000, 500);
            written.Add(("Delivered messages/s per scenario and system", "throughput.png"));
        }

        foreach (var scenario in loaded)
        {
            var groups = s_percentiles.Select(p => systems.Select(system => Stat.Of(rows.Where(r => r.Scenario == scenario && r.System == system).Select(r => r[p.Column])).Median).ToArray()).ToArray();
            if (groups.SelectMany(g => g).All(double.IsNaN))
            {
                continue;
            }

            var file = $"latency-{scenario}.png";
            Grouped(groups, s_percentiles.Select(p => p.Label).ToArray(), systems, palette, $"{scenario}: end-to-end latency percentiles (median of runs)", "ms (log scale)", log: true)
                .SavePng(Path.Combine(folder, file), 900, 500);
            written.Add(($"{scenario}: latency percentiles", file));
        }

        return written;
    }

    /// <summary>Bars in groups (one per label), one bar per system in its palette colour; log plots bars of log10(value).</summary>
    private static Plot Grouped(double[][] groups, string[] labels, string[] systems, IPalette palette, string title, string yLabel, bool log)
    {
        var plot = new Plot();
        var present = groups.SelectMany(g => g).Where(v => !double.IsNaN(v) && v > 0).DefaultIfEmpty(1).ToArray();
        var floor = log ? Math.Floor(Math.Log10(present.Min())) : 0;
        var bars = new List<Bar>();
        const double width = 0.8;
        for (var g = 0; g < groups.Length; g++)
        {
            for (var s = 0; s < systems.Length; s++)
            {
                var value = groups[g][s];
                if (double.IsNaN(value) || value <= 0)
                {
                    continue;
                }

                bars.Add(new Bar
                {
                    Position = g + (s - (systems.Length - 1) / 2.0) * width / systems.Length,
                    Size = width / systems.Length * 0.9,
                    Value = log ? Math.Log10(value) : value,
                    ValueBase = floor,
                    FillColor = palette.GetColor(s),
                });
            }
        }

        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(Enumerable.Range(0, labels.Length).Select(i => (double)i).ToArray(), labels);
        if (log)
        {
            // Ticks at 1, 2 and 5 of every decade from the floor to the tallest bar, labelled with the value itself.
            var top = Math.Ceiling(Math.Log10(present.Max()));
            var ticks = Enumerable.Range((int)floor, (int)(top - floor) + 1)
                .SelectMany(d => new[] { 1.0, 2.0, 5.0 }.Select(m => m * Math.Pow(10, d)))
                .ToArray();
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                ticks.Select(Math.Log10).ToArray(), ticks.Select(t => t.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        }

        for (var s = 0; s < systems.Length; s++)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = systems[s], FillColor = palette.GetColor(s) });
        }

        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.UpperLeft;
        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
        plot.YLabel(yLabel);
        return plot;
    }
}
