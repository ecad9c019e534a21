using AuditStream.Checkpoints;

namespace AuditStream.Core.Tests.Checkpoints;

public sealed class CheckpointTests
{
    private const string Origin = "auditstream.example/ledger";
    private static readonly byte[] s_root = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private static readonly string s_rootBase64 = Convert.ToBase64String(s_root);

    [Fact]
    public void Note_text_is_origin_size_and_base64_root_each_ending_in_a_newline()
    {
        var checkpoint = new Checkpoint(Origin, 1234, s_root);

        Assert.Equal($"{Origin}\n1234\n{s_rootBase64}\n", checkpoint.ToNoteText());
    }

    [Fact]
    public void Extension_lines_follow_the_root_hash()
    {
        var checkpoint = new Checkpoint(Origin, 7, s_root, ["ext one", "ext two"]);

        Assert.Equal($"{Origin}\n7\n{s_rootBase64}\next one\next two\n", checkpoint.ToNoteText());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(long.MaxValue)]
    public void Note_text_parses_back_to_an_equal_checkpoint(long treeSize)
    {
        var checkpoint = new Checkpoint(Origin, treeSize, s_root, treeSize == 10 ? ["x"] : null);

        Assert.True(Checkpoint.TryParse(checkpoint.ToNoteText(), out var parsed, out var error), error);
        Assert.Equal(checkpoint, parsed);
        Assert.Equal(checkpoint.GetHashCode(), parsed.GetHashCode());
    }

    [Fact]
    public void Checkpoints_differing_only_in_a_root_byte_are_not_equal()
    {
        var other = (byte[])s_root.Clone();
        other[31] ^= 1;

        Assert.NotEqual(new Checkpoint(Origin, 5, s_root), new Checkpoint(Origin, 5, other));
        Assert.Equal(new Checkpoint(Origin, 5, s_root), new Checkpoint(Origin, 5, (byte[])s_root.Clone()));
    }

    [Fact]
    public void The_root_hash_is_copied_so_later_changes_to_the_callers_array_do_not_leak_in()
    {
        var root = (byte[])s_root.Clone();
        var checkpoint = new Checkpoint(Origin, 5, root);

        root[0] ^= 0xff;

        Assert.Equal(s_root, checkpoint.RootHash);
    }

    public static TheoryData<string, string> MalformedBodies() => new()
    {
        { "", "must end with a newline" },
        { $"{Origin}\n5\n{s_rootBase64}", "must end with a newline" },
        { $"{Origin}\n5\n", "has 2 line(s)" },
        { $"{Origin}\n", "has 1 line(s)" },
        { $"\n5\n{s_rootBase64}\n", "line 1 is empty" },
        { $"{Origin}\n\n{s_rootBase64}\n", "line 2 is empty" },
        { $"{Origin}\n5\n\n", "line 3 is empty" },
        { $"{Origin}\n5\n{s_rootBase64}\n\n", "line 4 is empty" },
        { $"{Origin}\n05\n{s_rootBase64}\n", "leading zero" },
        { $"{Origin}\n00\n{s_rootBase64}\n", "leading zero" },
        { $"{Origin}\n-5\n{s_rootBase64}\n", "not an unsigned decimal" },
        { $"{Origin}\n+5\n{s_rootBase64}\n", "not an unsigned decimal" },
        { $"{Origin}\n 5\n{s_rootBase64}\n", "not an unsigned decimal" },
        { $"{Origin}\n5 \n{s_rootBase64}\n", "not an unsigned decimal" },
        { $"{Origin}\n0x5\n{s_rootBase64}\n", "not an unsigned decimal" },
        { $"{Origin}\n١٢\n{s_rootBase64}\n", "not an unsigned decimal" },
        { $"{Origin}\n9223372036854775808\n{s_rootBase64}\n", "larger than the largest" },
        { $"{Origin}\n5\n{s_rootBase64[..^1]}\n", "not canonical base64" },
        { $"{Origin}\n5\n{s_rootBase64.Replace('A', '!')}!\n", "not canonical base64" },
        { $"{Origin}\n5\n{s_rootBase64[..^2]}B=\n", "not canonical base64" },
        { $"{Origin}\n5\n{Convert.ToBase64String(new byte[31])}\n", "31 bytes, not 32" },
        { $"{Origin}\n5\n{Convert.ToBase64String(new byte[33])}\n", "33 bytes, not 32" },
        { $"{Origin}\n5\n{s_rootBase64}\ntab\there\n", "line 4 contains" },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public void Malformed_checkpoint_text_is_rejected_with_the_reason(string text, string reason)
    {
        Assert.False(Checkpoint.TryParse(text, out var checkpoint, out var error));
        Assert.Null(checkpoint);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_empty_tree_has_size_zero()
    {
        Assert.True(Checkpoint.TryParse($"{Origin}\n0\n{s_rootBase64}\n", out var checkpoint, out _));
        Assert.Equal(0, checkpoint.TreeSize);
    }

    [Fact]
    public void A_checkpoint_that_could_not_be_parsed_back_cannot_be_constructed()
    {
        Assert.Throws<ArgumentException>(() => new Checkpoint("", 1, s_root));
        Assert.Throws<ArgumentException>(() => new Checkpoint("two\nlines", 1, s_root));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Checkpoint(Origin, -1, s_root));
        Assert.Throws<ArgumentException>(() => new Checkpoint(Origin, 1, new byte[31]));
        Assert.Throws<ArgumentException>(() => new Checkpoint(Origin, 1, s_root, [""]));
        Assert.Throws<ArgumentException>(() => new Checkpoint(Origin, 1, s_root, ["a\nb"]));
    }
}
