using AuditStream.Merkle;

namespace AuditStream.Core.Tests.Merkle;

public sealed class TileAddressTests
{
    [Theory]
    [InlineData("0/000", 0, 0L, 256)]
    [InlineData("0/067", 0, 67L, 256)]
    [InlineData("2/x001/x234/067", 2, 1_234_067L, 256)]
    [InlineData("1/x001/000.p/5", 1, 1_000L, 5)]
    [InlineData("63/999.p/255", 63, 999L, 255)]
    [InlineData("entries/000", TileAddress.EntriesLevel, 0L, 256)]
    [InlineData("entries/x002/001.p/17", TileAddress.EntriesLevel, 2_001L, 17)]
    public void Canonical_paths_parse_and_print_back_the_same(string path, int level, long index, int width)
    {
        Assert.True(TileAddress.TryParse(path, out var tile));
        Assert.Equal(new TileAddress(level, index, width), tile);
        Assert.Equal(path, tile.Path);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("0/1")]
    [InlineData("0/0001")]
    [InlineData("00/000")]
    [InlineData("64/000")]
    [InlineData("0/x000/001")]
    [InlineData("0/001/002")]
    [InlineData("0/x001")]
    [InlineData("0/000.p/0")]
    [InlineData("0/000.p/256")]
    [InlineData("0/000.p/05")]
    [InlineData("0/000.p")]
    [InlineData("0/000/.p/5")]
    [InlineData("ENTRIES/000")]
    [InlineData("-1/000")]
    [InlineData("0/x922/x337/x203/x685/x477/x580/807")]
    public void Other_spellings_are_refused(string path) => Assert.False(TileAddress.TryParse(path, out _));
}
