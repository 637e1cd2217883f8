namespace CsiHostPath.Volumes;

/// <summary>What DeleteVolume does with the data (StorageClass parameter "onDelete").</summary>
public enum OnDelete
{
    Delete,

    /// <summary>Moves the volume, record and all, to &lt;data-dir&gt;/archived/ for an admin to restore or remove.</summary>
    Archive,
}
