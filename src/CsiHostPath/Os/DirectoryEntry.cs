namespace CsiHostPath.Os;

/// <summary>
/// One record of a directory listing. <see cref="NameZ"/> is the raw name with its NUL terminator, not necessarily
/// UTF-8, and is valid only until the cursor reads on; <see cref="Start"/> is the directory offset to seek to to
/// read this entry again, <see cref="Next"/> the one to read on after it.
/// </summary>
internal readonly ref struct DirectoryEntry(ReadOnlySpan<byte> nameZ, byte type, long start, long next)
{
    public ReadOnlySpan<byte> NameZ { get; } = nameZ;

    /// <summary>d_type; DT_UNKNOWN on filesystems that do not fill it in.</summary>
    public byte Type { get; } = type;

    public long Start { get; } = start;

    public long Next { get; } = next;

    public string DisplayName => System.Text.Encoding.UTF8.GetString(NameZ[..^1]);
}
