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
}
