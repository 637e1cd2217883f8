namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// What the fuzzer found aiming NodeUnpublishVolume of a real volume at paths it does not own: an unpublish
/// must touch only the volume's own publication at that path.
/// </summary>
public sealed class NodeUnpublishScopeTests(FuzzTests.Fixture fixture) : IClassFixture<FuzzTests.Fixture>
{
    [Infrastructure.KnownDriverBugFact("NodeUnpublishVolume removes an empty directory at a target_path the volume was never published to")]
    public async Task NodeUnpublishVolume_DirectoryTheVolumeWasNeverPublishedTo_LeftInPlace()
    {
        await fixture.UnpublishAsync(fixture.RealVolumeIds[0], fixture.Canary.EmptyDirectory);

        fixture.Canary.AssertUntouched();
    }

    [Infrastructure.KnownDriverBugFact("NodeUnpublishVolume unmounts whatever is mounted at target_path, even another volume's publication")]
    public async Task NodeUnpublishVolume_TargetWhereAnotherVolumeIsPublished_LeavesThatMount()
    {
        string other = Path.Combine(fixture.Sandbox, "t1");

        await fixture.UnpublishAsync(fixture.RealVolumeIds[0], other);

        Assert.True(CsiHostPath.Testing.Mounts.IsMountPoint(other), $"volume {fixture.RealVolumeIds[0]}'s unpublish took volume {fixture.RealVolumeIds[1]}'s mount off {other}");
    }
}
