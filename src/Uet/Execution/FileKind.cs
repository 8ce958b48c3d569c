using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Uet.Execution;

/// <summary>What .NET does not say about a file on Unix: its type beyond file/folder/link, and how many names it has.</summary>
internal static unsafe partial class FileKind
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const uint StatxMode = 0x2;
    private const uint StatxNlink = 0x4;
    private const uint StatxChangeTime = 0x80;
    private const uint StatxInode = 0x100;
    private const uint StatxSize = 0x200;

    // statx's struct is the same on every Linux architecture (256 bytes): mask at 0, nlink at 16, mode at 28, inode at
    // 32, size at 40, ctime (seconds, then nanoseconds) at 96.
    private const int StatxBytes = 256;

    private static bool _available = OperatingSystem.IsLinux();

    /// <summary>Whether statx is used; tests turn it off to run the path of platforms without it.</summary>
    internal static bool Enabled
    {
        get => _available;
        set => _available = value && OperatingSystem.IsLinux();
    }

    /// <summary>
    /// What <paramref name="path"/> is (a link is not followed), from one statx: its type, its number of names, its
    /// permissions, its size and its <see cref="FileStamp"/> (null when the file system does not give inode, size and
    /// change time). Null when this cannot be told here (not Linux, no statx) or the file is gone.
    /// </summary>
    public static FileFacts? Facts(string path) => FactsAt(AtFdCwd, path, AtSymlinkNoFollow);

    /// <summary>
    /// <see cref="Facts(string)"/> of the entry <paramref name="name"/> of an open <paramref name="folder"/>: one step of
    /// path lookup instead of one per folder of the whole path. Without the folder, <paramref name="path"/> is used.
    /// </summary>
    public static FileFacts? Facts(SafeFileHandle? folder, string name, string path) =>
        folder is null ? FactsAt(AtFdCwd, path, AtSymlinkNoFollow) : FactsAt((int)folder.DangerousGetHandle(), name, AtSymlinkNoFollow);

    /// <summary>Opens <paramref name="path"/> as a folder to look its entries up by name; null when it is not one (a link is not followed) or there is no statx.</summary>
    public static SafeFileHandle? OpenFolder(string path)
    {
        if (!_available)
        {
            return null;
        }

        var fd = Open(path, OpenReadOnly | OpenDirectory | OpenNoFollow | OpenCloseOnExec);
        return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
    }

    private static FileFacts? FactsAt(int directory, string path, int flags)
    {
        if (!_available)
        {
            return null;
        }

        var buffer = stackalloc byte[StatxBytes];
        try
        {
            if (Statx(directory, path, flags, StatxType | StatxMode | StatxNlink | StatxChangeTime | StatxInode | StatxSize, buffer) != 0)
            {
                return null;
            }
        }
        catch (EntryPointNotFoundException)
        {
            _available = false; // glibc older than 2.28
            return null;
        }

        const uint Stamped = StatxChangeTime | StatxInode | StatxSize;
        var given = *(uint*)buffer;
        var nlink = *(uint*)(buffer + 16);
        var mode = *(ushort*)(buffer + 28);
        var size = *(ulong*)(buffer + 40);
        var stamp = (given & Stamped) == Stamped ? new FileStamp(*(ulong*)(buffer + 32), size, *(long*)(buffer + 96), *(uint*)(buffer + 104)) : (FileStamp?)null;
        return new FileFacts((mode & 0xF000) == 0x8000, (mode & 0xF000) == 0xA000, (mode & 0xF000) == 0x4000, nlink, (UnixFileMode)(mode & 0xFFF), (long)size, stamp);
    }

    /// <summary>
    /// Writes <paramref name="path"/>'s changed pages to its disk and waits (Linux; elsewhere nothing). Then every page
    /// is clean and write-protected: the next write through a memory map of it faults, and so sets its ctime again.
    /// </summary>
    public static void Flush(string path)
    {
        // A file gone, or no longer a regular file, has nothing to flush; the comparison after this finds what it is.
        using var file = _available ? OpenRegularFile(path) : null;
        if (file is not null)
        {
            _ = SyncFileRange((int)file.DangerousGetHandle(), 0, 0, SyncWaitBefore | SyncWrite | SyncWaitAfter);
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> for reading if it is a regular file; null when it is anything else (a FIFO, a
    /// device, a link: not followed) or cannot be opened. On Linux the open never blocks, so a FIFO a process put in
    /// the file's place is refused at once instead of waiting for a writer; elsewhere it is .NET's plain open.
    /// </summary>
    public static SafeFileHandle? OpenRegularFile(string path)
    {
        if (!_available)
        {
            try
            {
                return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }

        var fd = Open(path, OpenReadOnly | OpenNonBlocking | OpenNoFollow | OpenCloseOnExec);
        if (fd < 0)
        {
            return null;
        }

        var file = new SafeFileHandle(fd, ownsHandle: true);
        if (FactsAt(fd, string.Empty, AtEmptyPath) is not { IsRegular: true })
        {
            file.Dispose();
            return null;
        }

        return file;
    }

    private const int AtEmptyPath = 0x1000;

    private const int OpenReadOnly = 0;
    private const int OpenNonBlocking = 0x800; // the same on x86-64 and arm64
    private static readonly int OpenNoFollow = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x8000 : 0x20000;
    private static readonly int OpenDirectory = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x4000 : 0x10000;
    private const int OpenCloseOnExec = 0x80000; // x86-64 and arm64

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    /// <summary>
    /// Whether the file system holding <paramref name="path"/> is one known to set a file's ctime on every kind of
    /// change, writes through a memory map included (ext2/3/4, XFS, Btrfs); tmpfs, for one, does not for those.
    /// </summary>
    public static bool KeepsChangeTimes(string path)
    {
        if (!_available)
        {
            return false;
        }

        var buffer = stackalloc byte[StatfsBytes];
        try
        {
            if (Statfs(path, buffer) != 0)
            {
                return false;
            }
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }

        // f_type comes first in struct statfs, as a long on 64-bit Linux.
        return *(long*)buffer is Ext4Magic or XfsMagic or BtrfsMagic;
    }

    private const int StatfsBytes = 256; // struct statfs is 120 bytes on x86-64 and arm64
    private const long Ext4Magic = 0xEF53; // ext2, ext3 and ext4
    private const long XfsMagic = 0x58465342;
    private const long BtrfsMagic = 0x9123683E;

    [LibraryImport("libc", EntryPoint = "statfs", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statfs(string path, byte* buffer);

    private const uint SyncWaitBefore = 1;
    private const uint SyncWrite = 2;
    private const uint SyncWaitAfter = 4;

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(int fd, long offset, long count, uint flags);

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int directoryFd, string path, int flags, uint mask, byte* buffer);
}

/// <summary>What statx says of a path (see <see cref="FileKind.Facts(string)"/>).</summary>
internal readonly record struct FileFacts(bool IsRegular, bool IsLink, bool IsDirectory, uint Names, UnixFileMode Mode, long Size, FileStamp? Stamp)
{
    /// <summary>A regular file with no other name: no hard link elsewhere, not a FIFO or a device.</summary>
    public bool IsLoneRegular => IsRegular && Names == 1;
}

/// <summary>
/// A file's inode, size and last change (ctime: any write, chmod, rename or new link sets it to the current time, and
/// no program can set it back). Two equal stamps of a path mean the same file, not changed between them, provided the
/// first was taken after its ctime had passed for good (<see cref="Settled"/>).
/// </summary>
internal readonly record struct FileStamp(ulong Inode, ulong Size, long ChangedSeconds, uint ChangedNanoseconds)
{
    /// <summary>
    /// Whether a change after <paramref name="takenAt"/> (when this stamp was read) must give another ctime. A ctime is
    /// the kernel's coarse clock (at most one tick, 10 ms, behind the time), at the file system's granularity (1 ns on
    /// ext4 and most; 1-2 s where the nanoseconds are always 0): a change after <paramref name="takenAt"/> gets a ctime
    /// later than takenAt minus both, so a ctime older than that cannot come again.
    /// </summary>
    public bool Settled(DateTimeOffset takenAt)
    {
        // Compared as seconds and nanoseconds: a ctime far outside DateTimeOffset's years (a crafted disk, FUSE) is no error.
        var limit = takenAt - (ChangedNanoseconds == 0 ? TimeSpan.FromSeconds(3) : TimeSpan.FromMilliseconds(50));
        var seconds = limit.ToUnixTimeSeconds();
        var nanoseconds = (limit.UtcTicks - DateTimeOffset.FromUnixTimeSeconds(seconds).UtcTicks) * 100;
        return ChangedSeconds < seconds || (ChangedSeconds == seconds && ChangedNanoseconds < nanoseconds);
    }
}
