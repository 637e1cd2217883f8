using CsiHostPath.Os;

namespace CsiHostPath.UnitTests.Os;

public sealed class MountInfoParserTests
{
    [Fact]
    public void TryParseLine_BindMountWithOptionalFields_ReadsEveryField()
    {
        const string line = "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue";

        Assert.True(MountInfoParser.TryParseLine(line, out var mount));

        Assert.Equal(new MountInfo(36, 35, "/mnt1", "/mnt2", "rw,noatime", "ext3", "/dev/root", "rw,errors=continue"), mount);
        Assert.False(mount.IsReadOnly);
    }

    [Fact]
    public void TryParseLine_EscapedSpaceTabNewlineAndBackslash_DecodesThem()
    {
        const string line = @"40 1 0:5 / /var/lib/kubelet/pods/a\040b\011c\012d\134e ro,relatime - tmpfs tmpfs rw";

        Assert.True(MountInfoParser.TryParseLine(line, out var mount));

        Assert.Equal("/var/lib/kubelet/pods/a b\tc\nd\\e", mount.MountPoint);
        Assert.True(mount.IsReadOnly);
    }

    [Fact]
    public void Unescape_MultiByteUtf8Octets_RebuildsTheCharacter()
    {
        Assert.Equal("/data/é", MountInfoParser.Unescape(@"/data/\303\251"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("36 35 98:0 /mnt1 /mnt2 rw")]
    [InlineData("x 35 98:0 / /mnt rw - ext4 /dev/sda rw")]
    public void TryParseLine_Malformed_ReturnsFalse(string line)
    {
        Assert.False(MountInfoParser.TryParseLine(line, out _));
    }

    [Fact]
    public void ReadSelf_OnThisMachine_FindsTheRootMount()
    {
        Assert.Contains(MountInfoParser.ReadSelf(), m => m.MountPoint == "/");
    }
}
