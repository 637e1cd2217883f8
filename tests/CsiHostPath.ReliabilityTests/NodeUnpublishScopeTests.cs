namespace CsiHostPath.ReliabilityTests;

/// <summary>
/// What the fuzzer found aiming NodeUnpublishVolume of a real volume at paths it does not own: an unpublish
/// must touch only the volume's own publication at that path.
/// </summary>
public sealed class NodeUnpublishScopeTests(FuzzTests.Fixture fixture) : IClassFixture<FuzzTests.Fixture>
{
    [Fact]
    public async Task NodeUnpublishVolume_DirectoryTheVolumeWasNeverPublishedTo_LeftInPlace()
    {
        await fixture.UnpublishAsync(fixture.RealVolumeIds[0], fixture.Canary.EmptyDirectory);

        fixture.Canary.AssertUntouched();
    }

    [Fact]
    public async Task NodeUnpublishVolume_TargetWhereAnotherVolumeIsPublished_LeavesThatMount()
    {
        string other = Path.Combine(fixture.Sandbox, "t1");

        await fixture.UnpublishAsync(fixture.RealVolumeIds[0], other);

        Assert.True(CsiHostPath.Testing.Mounts.IsMountPoint(other), $"volume {fixture.RealVolumeIds[0]}'s unpublish took volume {fixture.RealVolumeIds[1]}'s mount off {other}");
    }
}
