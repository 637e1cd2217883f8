using CsiHostPath.Volumes;

namespace CsiHostPath.UnitTests.Volumes;

public sealed class ProjectIdTests
{
    [Fact]
    public void For_SameVolume_GivesTheSameIdAboveTheAdminsRange()
    {
        string volumeId = VolumeId.FromName("pvc-1");

        uint first = ProjectId.For(volumeId, _ => false);

        Assert.Equal(first, ProjectId.For(volumeId, _ => false));
        Assert.True(first >= ProjectId.FirstDriverId);
    }

    [Fact]
    public void For_IdTaken_TakesTheNextFree()
    {
        string volumeId = VolumeId.FromName("pvc-1");
        uint natural = ProjectId.For(volumeId, _ => false);

        uint chosen = ProjectId.For(volumeId, id => id == natural || id == natural + 1);

        Assert.Equal(natural + 2, chosen);
    }
}
