using CsiHostPath.Volumes;

namespace CsiHostPath.UnitTests.Volumes;

public sealed class VolumeAccessPolicyTests
{
    // spec.md, NodePublishVolume, the second table (T1!=T2): only SINGLE_NODE_MULTI_WRITER allows another target,
    // and a SINGLE_NODE_SINGLE_WRITER publication refuses one whatever the second asks (issue 10 item 6).
    [Theory]
    [InlineData(AccessMode.SingleNodeMultiWriter, AccessMode.SingleNodeMultiWriter, true)]
    [InlineData(AccessMode.SingleNodeSingleWriter, AccessMode.SingleNodeMultiWriter, false)]
    [InlineData(AccessMode.SingleNodeMultiWriter, AccessMode.SingleNodeSingleWriter, false)]
    [InlineData(AccessMode.SingleNodeWriter, AccessMode.SingleNodeMultiWriter, false)]
    [InlineData(AccessMode.SingleNodeReaderOnly, AccessMode.SingleNodeReaderOnly, false)]
    public void AllowsSeveralTargets_SecondPublishTable(AccessMode published, AccessMode requested, bool expected) =>
        Assert.Equal(expected, VolumeAccessPolicy.AllowsSeveralTargets(published, requested));
}
