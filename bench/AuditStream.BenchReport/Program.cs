using AuditStream.BenchReport;

// Issue 7's report: bench/run.sh's results.csv in, results.md and PNG plots out (same folder), see docs/benchmarks.md.
// Usage: dotnet AuditStream.BenchReport.dll bench/results/<date>/results.csv
if (args.Length != 1 || !File.Exists(args[0]))
{
    await Console.Error.WriteLineAsync("usage: AuditStream.BenchReport <results.csv>  (writes results.md and *.png next to it)");
    return 2;
}

var rows = ResultRow.Read(args[0]);
if (rows.Count == 0)
{
    await Console.Error.WriteLineAsync($"{args[0]} has no rows");
    return 1;
}

var folder = Path.GetDirectoryName(Path.GetFullPath(args[0]))!;
var plots = Plots.Write(rows, folder);
var markdown = Report.Markdown(rows, plots, Path.Combine(folder, "machine.txt"));
await File.WriteAllTextAsync(Path.Combine(folder, "results.md"), markdown);
Console.WriteLine(markdown);
return 0;
