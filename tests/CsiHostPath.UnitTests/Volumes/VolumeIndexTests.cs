using CsiHostPath.Volumes;

namespace CsiHostPath.UnitTests.Volumes;

public sealed class VolumeIndexTests
{
    private static VolumeRecord Record(string name) => new()
    {
        VolumeId = VolumeId.FromName(name),
        Name = name,
        CapacityBytes = 1,
        Parameters = new Dictionary<string, string>(),
        CreatedAt = DateTimeOffset.UnixEpoch,
    };

    [Fact]
    public void Page_WalkedByLastId_ReturnsEveryVolumeOnceInOrder()
    {
        var index = new VolumeIndex();
        foreach (var i in Enumerable.Range(0, 25))
            index.Put(Record("v" + i));

        var seen = new List<string>();
        string? after = null;
        while (true)
        {
            var (page, more) = index.Page(after, 7);
            seen.AddRange(page.Select(r => r.VolumeId));
            if (!more)
                break;
            after = page[^1].VolumeId;
        }

        Assert.Equal(25, seen.Count);
        Assert.Equal(seen.Order(StringComparer.Ordinal), seen);
    }

    [Fact]
    public void Page_AfterAnIdThatWasRemoved_ContinuesWithTheNext()
    {
        var index = new VolumeIndex();
        var records = Enumerable.Range(0, 5).Select(i => Record("v" + i)).OrderBy(r => r.VolumeId, StringComparer.Ordinal).ToList();
        records.ForEach(index.Put);

        index.Remove(records[1].VolumeId);
        var (page, more) = index.Page(records[1].VolumeId, 10);

        Assert.Equal(records.Skip(2).Select(r => r.VolumeId), page.Select(r => r.VolumeId));
        Assert.False(more);
    }

    [Fact]
    public void Page_ExactlyFull_SaysNoMore()
    {
        var index = new VolumeIndex();
        index.Put(Record("a"));
        index.Put(Record("b"));

        var (page, more) = index.Page(null, 2);

        Assert.Equal(2, page.Count);
        Assert.False(more);
    }
}
