using System.Runtime.InteropServices;
using System.Text;

namespace CsiHostPath.Interop;

/// <summary>
/// statmount(2), Linux 6.8 (its mount options 6.11): what /proc/self/mountinfo says of one mount, asked of that mount
/// alone, so a check of one volume costs the same however many mounts the node has.
/// </summary>
internal static partial class Libc
{
    private const long SysStatMount = 457;
    private const uint StatxMountIdUnique = 0x4000;
    private const ulong STATMOUNT_SB_BASIC = 0x1;
    private const ulong STATMOUNT_MNT_BASIC = 0x2;
    private const ulong STATMOUNT_FS_TYPE = 0x20;
    private const ulong STATMOUNT_MNT_OPTS = 0x80;
    private const ulong STATMOUNT_SUPPORTED_MASK = 0x1000;
    private const ulong StatMountAlways = STATMOUNT_SB_BASIC | STATMOUNT_MNT_BASIC | STATMOUNT_FS_TYPE | STATMOUNT_SUPPORTED_MASK;
    private const uint SB_RDONLY = 0x1;
    private const uint SB_SYNCHRONOUS = 0x10;
    private const uint SB_DIRSYNC = 0x80;
    private const uint SB_LAZYTIME = 1 << 25;
    // struct statmount (linux/mount.h) keeps its fixed part at 512 bytes; string fields are offsets past it.
    private const int StatMountStrings = 512;
    private const int StatMountBufferSize = 4096;

    /// <summary>struct mnt_id_req, MNT_ID_REQ_SIZE_VER0.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MountIdRequest
    {
        internal uint Size;
        internal uint Spare;
        internal ulong MountId;
        internal ulong Param;
    }

    [StructLayout(LayoutKind.Explicit)]
    private struct StatMountHeader
    {
        [FieldOffset(4)] internal uint MountOptions;
        [FieldOffset(8)] internal ulong Mask;
        [FieldOffset(32)] internal uint SuperBlockFlags;
        [FieldOffset(36)] internal uint FsType;
        [FieldOffset(56)] internal uint MountIdOld;
        [FieldOffset(60)] internal uint ParentIdOld;
        [FieldOffset(64)] internal ulong MountAttributes;
        [FieldOffset(144)] internal ulong SupportedMask;
    }

    /// <summary>One mount as mountinfo shows it: <paramref name="SuperOptions"/> as its last field.</summary>
    internal readonly record struct MountStatus(int MountId, int ParentId, bool MountReadOnly, string FsType, string SuperOptions);

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial long SyscallStatMount(long number, MountIdRequest* request, byte* buffer, nuint size, uint flags);

    /// <summary>
    /// The mount whose root <paramref name="path"/> is (its last component not followed): null when nothing is mounted
    /// there; false when this kernel cannot answer for one mount, so the caller reads the whole table.
    /// </summary>
    internal static unsafe bool TryStatMount(string path, out MountStatus? status)
    {
        status = null;
        var file = Lstat(path, StatxMountIdUnique);
        if ((file.Mask & StatxMountIdUnique) == 0)
            return false;
        if (!file.IsMountRoot)
            return true;

        var request = new MountIdRequest { Size = (uint)sizeof(MountIdRequest), MountId = file.MountId, Param = StatMountAlways | STATMOUNT_MNT_OPTS };
        var buffer = new byte[StatMountBufferSize];
        int errno;
        fixed (byte* start = buffer)
        {
            MountIdRequest* requestAt = &request;
            byte* bufferAt = start;
            errno = Retry(() => SyscallStatMount(SysStatMount, requestAt, bufferAt, (nuint)StatMountBufferSize, 0));
        }
        if (errno != 0)
        {
            // ENOSYS before 6.8, EINVAL where a flag is unknown; ENOENT when the mount went in the meantime.
            return errno switch
            {
                Errno.ENOSYS or Errno.EINVAL => false,
                Errno.ENOENT => true,
                _ => throw new ErrnoException(errno, "statmount", path),
            };
        }
        var header = MemoryMarshal.Read<StatMountHeader>(buffer);
        // A kernel leaves out the options when a filesystem has none to show, and before 6.15 it cannot say whether it
        // knows them at all: only a kernel that says it supports them is trusted with their absence.
        if ((header.Mask & StatMountAlways) != StatMountAlways || (header.SupportedMask & STATMOUNT_MNT_OPTS) == 0)
            return false;
        status = new MountStatus(
            (int)header.MountIdOld,
            (int)header.ParentIdOld,
            (header.MountAttributes & MOUNT_ATTR_RDONLY) != 0,
            String(buffer, header.FsType),
            SuperOptions(header.SuperBlockFlags, (header.Mask & STATMOUNT_MNT_OPTS) != 0 ? String(buffer, header.MountOptions) : ""));
        return true;
    }

    /// <summary>
    /// mountinfo's superblock options: the flags the VFS prints itself (show_sb_opts), then what statmount gives as the
    /// options (the security module's and the filesystem's own).
    /// </summary>
    private static string SuperOptions(uint flags, string options)
    {
        var text = new StringBuilder((flags & SB_RDONLY) != 0 ? "ro" : "rw");
        if ((flags & SB_SYNCHRONOUS) != 0)
            text.Append(",sync");
        if ((flags & SB_DIRSYNC) != 0)
            text.Append(",dirsync");
        if ((flags & SB_LAZYTIME) != 0)
            text.Append(",lazytime");
        if (options.Length > 0)
            text.Append(',').Append(options);
        return text.ToString();
    }

    private static string String(byte[] buffer, uint offset)
    {
        var text = buffer.AsSpan(StatMountStrings + (int)offset);
        return Encoding.UTF8.GetString(text[..text.IndexOf((byte)0)]);
    }
}
