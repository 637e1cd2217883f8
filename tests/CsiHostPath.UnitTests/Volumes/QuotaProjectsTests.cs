using CsiHostPath.Volumes;

namespace CsiHostPath.UnitTests.Volumes;

public sealed class QuotaProjectsTests
{
    [Fact]
    public void Take_TwoCreatesWhoseIdsHashAlike_GetDifferentProjectsWhileNeitherIsInTheIndex()
    {
        var (first, second) = TwoVolumeIdsWithTheSameNaturalProject();
        var projects = new QuotaProjects(new VolumeIndex());

        using var firstClaim = projects.Take(first);
        using var secondClaim = projects.Take(second);

        Assert.Equal(ProjectId.For(first, _ => false), firstClaim.Id);
        Assert.NotEqual(firstClaim.Id, secondClaim.Id);
    }

    [Fact]
    public void Take_AfterAFailedCreateReleasedItsClaim_TheIdIsFreeAgain()
    {
        var (first, second) = TwoVolumeIdsWithTheSameNaturalProject();
        var projects = new QuotaProjects(new VolumeIndex());

        uint released;
        using (var failed = projects.Take(first))
            released = failed.Id;
        using var next = projects.Take(second);

        Assert.Equal(released, next.Id);
    }

    [Fact]
    public void Take_IdOfAVolumeInTheIndex_IsNotHandedOutAgain()
    {
        var (first, second) = TwoVolumeIdsWithTheSameNaturalProject();
        var index = new VolumeIndex();
        var projects = new QuotaProjects(index);
        using (var claim = projects.Take(first))
            index.Put(new VolumeRecord
            {
                VolumeId = first,
                Name = "pvc-first",
                CapacityBytes = 1 << 20,
                Parameters = new Dictionary<string, string>(),
                CreatedAt = DateTimeOffset.UnixEpoch,
                ProjectId = claim.Id,
            });

        using var secondClaim = projects.Take(second);

        Assert.NotEqual(index.Find(first)!.ProjectId, secondClaim.Id);
    }

    /// <summary>A birthday search: among ~80,000 ids two map to one project id on average.</summary>
    private static (string, string) TwoVolumeIdsWithTheSameNaturalProject()
    {
        var seen = new Dictionary<uint, string>();
        for (int i = 0; ; i++)
        {
            string volumeId = $"volume-{i}";
            uint natural = ProjectId.For(volumeId, _ => false);
            if (!seen.TryAdd(natural, volumeId))
                return (seen[natural], volumeId);
        }
    }
}
