using System.Globalization;

namespace AuditStream.LoadGen.Run;

/// <summary>CPU and memory of processes and of the whole box, read from /proc (Linux).</summary>
internal static class ProcStat
{
    /// <summary>USER_HZ: the unit of /proc times; 100 on every Linux this runs on.</summary>
    private const double ClockTicksPerSecond = 100;

    /// <summary>utime + stime of a process in seconds (0 when it is gone).</summary>
    public static double CpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command name, which may hold spaces and ends with the last ')': state is field 3, utime 14, stime 15.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / ClockTicksPerSecond;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>VmRSS of a process in bytes (0 when it is gone).</summary>
    public static long RssBytes(int pid) => StatusKib(pid, "VmRSS:") * 1024;

    /// <summary>VmHWM (peak RSS) of a process in bytes.</summary>
    public static long PeakRssBytes(int pid) => StatusKib(pid, "VmHWM:") * 1024;

    /// <summary>Busy and total CPU seconds of the whole machine (all cores, all processes, other users included).</summary>
    public static (double Busy, double Total) Box()
    {
        var line = File.ReadLines("/proc/stat").First();
        var values = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var total = values.Sum();
        var idle = values[3] + values[4];
        return ((total - idle) / ClockTicksPerSecond, total / ClockTicksPerSecond);
    }

    private static long StatusKib(int pid, string key)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(key, StringComparison.Ordinal))
                {
                    return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }
}
