namespace CsiHostPath.Volumes;

/// <summary>
/// Hands out quota project ids. A volume's id must differ from every other volume's, those still being created
/// included: the index holds a volume only once it is made, and two creates whose ids hash alike would otherwise share
/// one project, so one limit and one usage for both volumes.
/// </summary>
public sealed class QuotaProjects(VolumeIndex index)
{
    private readonly Lock _gate = new();
    private readonly HashSet<uint> _beingCreated = [];

    /// <summary>Takes a project id for <paramref name="volumeId"/>; it stays apart until the claim is disposed, once the index holds the volume or its create failed.</summary>
    public Claim Take(string volumeId)
    {
        lock (_gate)
        {
            var taken = index.All().Select(r => r.ProjectId).ToHashSet();
            uint id = ProjectId.For(volumeId, candidate => taken.Contains(candidate) || _beingCreated.Contains(candidate));
            _beingCreated.Add(id);
            return new Claim(this, id);
        }
    }

    private void Release(uint id)
    {
        lock (_gate)
            _beingCreated.Remove(id);
    }

    public sealed class Claim(QuotaProjects owner, uint id) : IDisposable
    {
        public uint Id => id;

        public void Dispose() => owner.Release(id);
    }
}
