namespace CsiHostPath.Volumes;

/// <summary>What a CreateVolume asks for, translated out of protobuf.</summary>
public sealed record VolumeSpec(
    string Name,
    CapacityRange Capacity,
    IReadOnlyList<VolumeAccess> Accesses,
    IReadOnlyDictionary<string, string> Parameters,
    IReadOnlyList<IReadOnlyDictionary<string, string>> RequisiteTopologies,
    VolumeSource? Source = null);
