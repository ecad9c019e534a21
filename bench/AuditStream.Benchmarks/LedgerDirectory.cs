namespace AuditStream.Benchmarks;

/// <summary>A ledger directory for one benchmark run: --dir to reuse one, else a fresh one under /tmp that is removed afterwards.</summary>
internal sealed class LedgerDirectory : IDisposable
{
    private readonly bool _owned;

    public LedgerDirectory(string? path)
    {
        _owned = path is null;
        Path = path ?? System.IO.Path.Combine(System.IO.Path.GetTempPath(), "auditstream-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        if (_owned)
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
