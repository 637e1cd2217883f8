using System.Diagnostics;
using Csi.V1;
using CsiHostPath.Client;
using Grpc.Core;

namespace CsiHostPath.Testing;

public static class VolumeDeletion
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>
    /// DeleteVolume retried while it answers FAILED_PRECONDITION, as external-provisioner retries it. An image volume's
    /// filesystem stays in use while any mount namespace holds a copy of its mount, and every process on the machine
    /// that makes a mount namespace (other tests' drivers do) copies the mounts it sees, until it exits.
    /// </summary>
    public static async Task DeleteVolumeOnceFreeAsync(this CsiClient client, string volumeId)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volumeId });
                return;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition && waited.Elapsed < Patience)
            {
                await Task.Delay(200);
            }
        }
    }
}
