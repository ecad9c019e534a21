using AuditStream.Checkpoints;
using static AuditStream.Core.Tests.Checkpoints.PublishedVectors;

namespace AuditStream.Core.Tests.Checkpoints;

public sealed class SigningKeyFileTests : IDisposable
{
    private const string Origin = "auditstream.example/ledger";
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(10);

    private readonly string _directory = Directory.CreateTempSubdirectory("auditstream-keyfile-").FullName;

    private string KeyPath => Path.Combine(_directory, "checkpoint.key");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_missing_key_file_is_created_with_owner_only_permissions()
    {
        using var signer = SigningKeyFile.LoadOrCreate(KeyPath, Origin);

        Assert.True(File.Exists(KeyPath));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(KeyPath));
        }
    }

    [Fact]
    public void The_created_file_holds_the_signer_key_on_one_line()
    {
        using var signer = SigningKeyFile.LoadOrCreate(KeyPath, Origin);

        Assert.Equal(signer.ExportSignerKey() + "\n", File.ReadAllText(KeyPath));
        Assert.Equal(Origin, signer.Name);
    }

    [Fact]
    public void Loading_again_gives_the_same_key()
    {
        string first;
        using (var signer = SigningKeyFile.LoadOrCreate(KeyPath, Origin))
        {
            first = signer.VerifierKey;
        }

        using var reloaded = SigningKeyFile.LoadOrCreate(KeyPath, Origin);

        Assert.Equal(first, reloaded.VerifierKey);
    }

    [Fact]
    public void An_existing_key_file_is_loaded_and_never_rewritten()
    {
        File.WriteAllText(KeyPath, PeterSignerKey + "\n");
        var before = File.ReadAllBytes(KeyPath);
        var modifiedBefore = File.GetLastWriteTimeUtc(KeyPath);

        using var signer = SigningKeyFile.LoadOrCreate(KeyPath, "PeterNeumann");

        Assert.Equal(PeterVerifierKey, signer.VerifierKey);
        Assert.Equal(before, File.ReadAllBytes(KeyPath));
        Assert.Equal(modifiedBefore, File.GetLastWriteTimeUtc(KeyPath));
    }

    [Fact]
    public void A_key_file_without_a_trailing_newline_loads()
    {
        File.WriteAllText(KeyPath, PeterSignerKey);

        using var signer = SigningKeyFile.LoadOrCreate(KeyPath, "PeterNeumann");

        Assert.Equal(PeterVerifierKey, signer.VerifierKey);
    }

    [Fact]
    public void A_corrupt_key_file_is_an_error_and_is_left_as_it_was()
    {
        File.WriteAllText(KeyPath, "PRIVATE+KEY+garbage\n");

        var error = Assert.Throws<InvalidDataException>(() => SigningKeyFile.LoadOrCreate(KeyPath, Origin));

        Assert.Contains(KeyPath, error.Message, StringComparison.Ordinal);
        Assert.Equal("PRIVATE+KEY+garbage\n", File.ReadAllText(KeyPath));
    }

    [Fact]
    public void A_key_file_for_another_key_name_is_an_error_and_is_left_as_it_was()
    {
        File.WriteAllText(KeyPath, PeterSignerKey + "\n");

        var error = Assert.Throws<InvalidDataException>(() => SigningKeyFile.LoadOrCreate(KeyPath, Origin));

        Assert.Contains("PeterNeumann", error.Message, StringComparison.Ordinal);
        Assert.Equal(PeterSignerKey + "\n", File.ReadAllText(KeyPath));
    }

    [Fact]
    public void Creating_a_key_leaves_no_temporary_file_behind()
    {
        using var signer = SigningKeyFile.LoadOrCreate(KeyPath, Origin);

        Assert.Equal([KeyPath], Directory.GetFiles(_directory));
    }

    [Fact]
    public void Missing_parent_directories_are_created()
    {
        var nested = Path.Combine(_directory, "a", "b", "checkpoint.key");

        using var signer = SigningKeyFile.LoadOrCreate(nested, Origin);

        Assert.True(File.Exists(nested));
    }

    [Fact]
    public async Task Concurrent_first_starts_all_end_up_with_the_one_key_on_disk()
    {
        using var start = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            Assert.True(start.Wait(s_startTimeout));
            using var signer = SigningKeyFile.LoadOrCreate(KeyPath, Origin);
            return signer.VerifierKey;
        })).ToArray();

        start.Set();
        var keys = await Task.WhenAll(tasks);

        using var onDisk = NoteSigner.FromSignerKey(File.ReadAllText(KeyPath).Trim());
        Assert.All(keys, key => Assert.Equal(onDisk.VerifierKey, key));
        Assert.Equal([KeyPath], Directory.GetFiles(_directory));
    }
}
