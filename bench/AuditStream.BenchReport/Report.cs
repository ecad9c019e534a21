using System.Globalization;
using System.Text;

namespace AuditStream.BenchReport;

/// <summary>results.md: every system's medians (min–max over runs) per scenario, and AuditStream ÷ peer from the same run.</summary>
internal static class Report
{
    /// <summary>Issue 7's goals per peer: delivered msgs/s at least this share of the peer's; p99 at most the peer's where given.</summary>
    private static readonly Dictionary<string, (double Delivered, double? P99)> s_goals = new(StringComparer.Ordinal)
    {
        ["signalr"] = (2.0, 1.0),
        ["nats"] = (1.0, null),
        ["raw"] = (0.5, null),
    };

    public static string Markdown(List<ResultRow> rows, IReadOnlyList<(string Title, string File)> plots, string machinePath)
    {
        var md = new StringBuilder();
        md.AppendLine("# Side by side with peers").AppendLine();
        md.AppendLine("Written by `bench/AuditStream.BenchReport` from `results.csv` (`bench/run.sh`). Each cell: median over runs, (min–max) when there are several. `missing`: deliveries owed for events sent in the window that had not arrived by the end of the drain; `closed`: connections the server closed (e.g. AuditStream's 4008 slow_consumer) or that broke.");
        if (File.Exists(machinePath))
        {
            md.AppendLine().AppendLine("```").Append(File.ReadAllText(machinePath)).AppendLine("```");
        }

        md.AppendLine().AppendLine("## Per system").AppendLine();
        md.AppendLine("| scenario | system | runs | clients | committed ev/s | delivered msgs/s | p50 ms | p99 ms | p99.9 ms | max ms | missing | closed | server CPU % | server RSS MiB | load gen CPU % | box CPU % |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var scenario in ResultRow.Scenarios(rows))
        {
            foreach (var system in ResultRow.Systems(rows))
            {
                var set = rows.Where(r => r.Scenario == scenario && r.System == system).ToList();
                if (set.Count == 0)
                {
                    continue;
                }

                string S(string column, string format) => Stat.Of(set.Select(r => r[column])).Format(format);
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {scenario} | {system} | {set.Count} | {S("clients", "F0")} | {S("committed_per_s", "F0")} | {S("delivered_per_s", "F0")} | {S("p50_ms", "F2")} | {S("p99_ms", "F2")} | " +
                    $"{S("p999_ms", "F2")} | {S("max_ms", "F1")} | {S("missing", "F0")} | {Stat.Of(set.Select(Closed)).Format("F0")} | {S("server_cpu_pct", "F0")} | {S("server_rss_mib", "F0")} | {S("loadgen_cpu_pct", "F0")} | {S("box_cpu_pct", "F0")} |");
            }
        }

        var idle = rows.Where(r => !double.IsNaN(r["idle_rss_per_conn_kib"])).ToList();
        if (idle.Count > 0)
        {
            md.AppendLine().AppendLine("| idle scenario | system | runs | RSS KiB per connection | GC heap KiB per connection |").AppendLine("|---|---|---|---|---|");
            foreach (var group in idle.GroupBy(r => (r.Scenario, r.System)))
            {
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {group.Key.Scenario} | {group.Key.System} | {group.Count()} | {Stat.Of(group.Select(r => r["idle_rss_per_conn_kib"])).Format("F1")} | {Stat.Of(group.Select(r => r["idle_gc_heap_per_conn_kib"])).Format("F1")} |");
            }
        }

        AppendRatios(md, rows);
        if (plots.Count > 0)
        {
            md.AppendLine().AppendLine("## Plots").AppendLine();
            foreach (var (title, file) in plots)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"![{title}]({file})").AppendLine();
            }
        }

        return md.ToString();
    }

    /// <summary>Connections that ended during the run: close codes received ("4008:1000") plus broken ones ("eof:3").</summary>
    private static double Closed(ResultRow row) =>
        new[] { "closes", "broken" }.Sum(column => row.Fields.GetValueOrDefault(column, "")
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Sum(pair => double.TryParse(pair[(pair.LastIndexOf(':') + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0));

    private static void AppendRatios(StringBuilder md, List<ResultRow> rows)
    {
        md.AppendLine().AppendLine("## AuditStream ÷ peer, from the same run").AppendLine();
        md.AppendLine("Each run index's AuditStream row divided by the peer's row of the same index (the systems run one after another within an index), then median (min–max) over runs. " +
            "At a fixed offered rate every system that keeps up delivers the same msgs/s (ratio ≈ 1); the delivered ratio means most in `max-throughput-*`. Goals (issue 7): delivered ≥ 2× SignalR, ≥ 1× nats-server, ≥ 0.5× raw loopback; p99 ≤ SignalR's.");
        md.AppendLine().AppendLine("| scenario | peer | runs paired | delivered msgs/s ratio | goal | p99 ratio | goal |").AppendLine("|---|---|---|---|---|---|---|");
        foreach (var scenario in ResultRow.Scenarios(rows))
        {
            var ours = rows.Where(r => r.Scenario == scenario && r.System == "auditstream").ToDictionary(r => r.Run);
            foreach (var peer in ResultRow.Systems(rows).Where(s => s != "auditstream"))
            {
                var pairs = rows.Where(r => r.Scenario == scenario && r.System == peer && ours.ContainsKey(r.Run)).Select(r => (Ours: ours[r.Run], Peer: r)).ToList();
                if (pairs.Count == 0)
                {
                    continue;
                }

                var delivered = Stat.Of(pairs.Select(p => p.Ours["delivered_per_s"] / p.Peer["delivered_per_s"]));
                var p99 = Stat.Of(pairs.Select(p => p.Ours["p99_ms"] / p.Peer["p99_ms"]));
                var goal = s_goals.GetValueOrDefault(peer);
                string Verdict(Stat stat, double? bound, bool atLeast) => bound is not { } b || stat.Count == 0
                    ? "–"
                    : string.Create(CultureInfo.InvariantCulture, $"{(atLeast ? "≥" : "≤")} {b:0.##} {((atLeast ? stat.Median >= b : stat.Median <= b) ? "met" : "not met")}");
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {scenario} | {peer} | {pairs.Count} | {delivered.Format("F2")} | {Verdict(delivered, goal == default ? null : goal.Delivered, atLeast: true)} | {p99.Format("F2")} | {Verdict(p99, goal.P99, atLeast: false)} |");
            }
        }
    }
}
