using CsiHostPath.Volumes;

namespace CsiHostPath.UnitTests.Volumes;

public sealed class VolumeLocksTests
{
    [Fact]
    public void Acquire_SameVolumeWhileHeld_ThrowsOperationPending()
    {
        var locks = new VolumeLocks();
        using var held = locks.Acquire("a");

        Assert.Throws<OperationPendingException>(() => locks.Acquire("a"));
    }

    [Fact]
    public void Acquire_OtherVolumeWhileHeld_Succeeds()
    {
        var locks = new VolumeLocks();
        using var held = locks.Acquire("a");

        using var other = locks.Acquire("b");
    }

    [Fact]
    public void Acquire_AfterRelease_Succeeds()
    {
        var locks = new VolumeLocks();
        locks.Acquire("a").Dispose();

        using var again = locks.Acquire("a");
    }

    [Fact]
    public void AcquireTarget_SameTargetForAnotherVolume_ThrowsOperationPendingNamingTheTarget()
    {
        var locks = new VolumeLocks();
        using var first = locks.Acquire("a");
        using var target = locks.AcquireTarget("/pods/p/mount");
        using var second = locks.Acquire("b");

        var e = Assert.Throws<OperationPendingException>(() => locks.AcquireTarget("/pods/p/mount"));
        Assert.Contains("target_path /pods/p/mount", e.Message);
    }

    [Fact]
    public void AcquireTarget_TargetNamedLikeAVolume_IndependentOfThatVolume()
    {
        var locks = new VolumeLocks();
        using var volume = locks.Acquire("x");

        using var target = locks.AcquireTarget("x");
    }
}
