using AuditStream.Checkpoints;

namespace AuditStream.Ledger.Sqlite;

/// <summary>
/// Creates a SQLite database file owner-only (0600, like the signing keys) before SQLite opens it. SQLite's unix VFS
/// creates the <c>-wal</c>, <c>-shm</c> and <c>-journal</c> files with the database file's permission bits, so they
/// follow; left to SQLite the database itself would be created 0644 (its default mode less the umask).
/// </summary>
internal static class OwnerOnlyFile
{
    /// <summary>Creates <paramref name="path"/> empty and 0600 unless it exists (an empty file is an empty database to SQLite).</summary>
    public static void Create(string path)
    {
        if (OperatingSystem.IsWindows() || File.Exists(path))
        {
            // An existing file keeps the mode its operator gave it.
            return;
        }

        try
        {
            using (new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = SigningKeyFile.Permissions }))
            {
            }
        }
        catch (IOException) when (File.Exists(path))
        {
            // Created meanwhile by another opener: its mode stands.
            return;
        }

        // The umask can only remove bits; set the mode explicitly so it is exactly 0600.
        File.SetUnixFileMode(path, SigningKeyFile.Permissions);
    }
}
