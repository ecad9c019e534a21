using AuditStream.Merkle;

namespace AuditStream.Core.Tests.Merkle;

public sealed class NodeRangeTests
{
    [Theory]
    [InlineData(0, 1, 0)]
    [InlineData(5, 6, 0)]
    [InlineData(0, 8, 3)]
    [InlineData(8, 16, 3)]
    [InlineData(4, 6, 1)]
    [InlineData(1L << 40, 1L << 41, 40)]
    public void Perfect_ranges_have_log2_of_their_size_as_height(long start, long end, int height)
    {
        var range = new NodeRange(start, end);

        Assert.True(range.IsPerfect);
        Assert.Equal(height, range.Height);
        Assert.Equal(start >> height, range.Index);
        Assert.Equal(range, NodeRange.Perfect(height, range.Index));
    }

    [Theory]
    [InlineData(0, 0)] // empty
    [InlineData(0, 3)] // size not a power of two
    [InlineData(2, 6)] // size 4 not aligned
    [InlineData(1, 3)] // size 2 not aligned
    [InlineData(5, 4)] // reversed
    [InlineData(-2, 0)] // negative start
    public void Ranges_that_are_not_aligned_powers_of_two_are_not_perfect_and_have_no_height(long start, long end)
    {
        var range = new NodeRange(start, end);

        Assert.False(range.IsPerfect);
        Assert.Throws<InvalidOperationException>(() => range.Height);
    }

    [Theory]
    [InlineData(0, 1, true)]
    [InlineData(0, 7, true)]
    [InlineData(4, 7, true)] // right edge of the tree of size 7
    [InlineData(8, 13, true)]
    [InlineData(64, 95, true)]
    [InlineData(6, 7, true)]
    [InlineData(2, 5, false)] // size 3 needs alignment to 4
    [InlineData(4, 9, false)] // size 5 needs alignment to 8
    [InlineData(1, 3, false)]
    [InlineData(3, 3, false)]
    public void A_range_is_a_subtree_when_its_start_is_aligned_to_its_size_rounded_up_to_a_power_of_two(long start, long end, bool expected)
    {
        Assert.Equal(expected, new NodeRange(start, end).IsSubtree);
    }

    [Fact]
    public void Ranges_print_as_half_open_intervals()
    {
        Assert.Equal("[4, 7)", new NodeRange(4, 7).ToString());
        Assert.Equal(3, new NodeRange(4, 7).Size);
    }

    [Fact]
    public void Perfect_rejects_positions_beyond_the_largest_tree()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NodeRange.Perfect(-1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => NodeRange.Perfect(63, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => NodeRange.Perfect(0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => NodeRange.Perfect(62, 1));
        Assert.Equal(new NodeRange(0, 1L << 62), NodeRange.Perfect(62, 0));
    }
}
