using Csi.V1;
using CsiHostPath.Grpc;
using Grpc.Core;

namespace CsiHostPath.UnitTests.Grpc;

public sealed class RequestValidationTests
{
    [Theory]
    [InlineData("", "volume_id is required")]
    [InlineData("..", "volume_id '..'")]
    [InlineData("a/b", "volume_id 'a/b'")]
    [InlineData("a\0b", "volume_id 'a\\x00b'")]
    public void RequireName_BadId_NamesTheProtobufField(string id, string expectedStart)
    {
        var request = new DeleteVolumeRequest { VolumeId = id };

        var error = Assert.Throws<RpcException>(() => RequestValidation.RequireName(request.VolumeId));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith(expectedStart, error.Status.Detail);
    }

    [Fact]
    public void RequireName_LongerThan128Bytes_IsInvalid()
    {
        var error = Assert.Throws<RpcException>(() => RequestValidation.RequireName(new string('é', 65)));
        Assert.Contains("128 bytes", error.Status.Detail);
    }

    [Theory]
    [InlineData("relative/path")]
    [InlineData("/var/lib/../etc")]
    [InlineData("/a/./b")]
    public void RequireAbsolutePath_NotCanonicalAbsolute_IsInvalid(string path)
    {
        var request = new NodePublishVolumeRequest { TargetPath = path };

        var error = Assert.Throws<RpcException>(() => RequestValidation.RequireAbsolutePath(request.TargetPath));

        Assert.StartsWith("target_path", error.Status.Detail);
    }

    [Fact]
    public void RequireAbsolutePath_TrailingSlash_IsTrimmed()
    {
        Assert.Equal("/mnt/target", RequestValidation.RequireAbsolutePath("/mnt/target/"));
    }
}
