using Csi.V1;
using CsiHostPath.Client;
using Grpc.Core;

namespace CsiHostPath.Testing;

public static class TargetUnpublishing
{
    /// <summary>
    /// NodeUnpublishVolume retried while the target or an inline volume's loop device is busy, as kubelet retries it: other
    /// tests fork children (drivers, mkfs) and make mount namespaces, and for a moment one of them holds a file or a copy
    /// of the mount.
    /// </summary>
    public static async Task UnpublishOnceFreeAsync(this CsiClient client, string volumeId, string target, Func<DateTime>? deadline = null)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await client.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volumeId, TargetPath = target }, deadline: deadline?.Invoke());
                return;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition && (e.Status.Detail.Contains("busy") || e.Status.Detail.Contains("in use")) && attempt < 20)
            {
                await Task.Delay(25 * attempt);
            }
        }
    }
}
