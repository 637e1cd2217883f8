namespace CsiHostPath.Volumes;

/// <summary>A quota project id per volume, derived from its id so it is the same after every restart.</summary>
public static class ProjectId
{
    // Ids below this are left to the admin's /etc/projects; 0 means "no project" to the kernel.
    public const uint FirstDriverId = 1u << 20;

    public static uint For(string volumeId, Func<uint, bool> taken)
    {
        uint hash = BitConverter.ToUInt32(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(volumeId)));
        uint candidate = FirstDriverId + (hash % (uint.MaxValue - FirstDriverId));
        while (taken(candidate))
            candidate = candidate == uint.MaxValue - 1 ? FirstDriverId : candidate + 1;
        return candidate;
    }
}
