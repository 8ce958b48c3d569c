using System.Runtime.InteropServices;

namespace Uet.Execution;

/// <summary>What .NET does not say about a file on Unix: its type beyond file/folder/link, and how many names it has.</summary>
internal static unsafe partial class FileKind
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const uint StatxMode = 0x2;
    private const uint StatxNlink = 0x4;

    // statx's struct is the same on every Linux architecture (256 bytes): nlink at 16, mode at 28.
    private const int StatxBytes = 256;

    private static bool _available = OperatingSystem.IsLinux();

    /// <summary>Whether statx is used; tests turn it off to run the path of platforms without it.</summary>
    internal static bool Enabled
    {
        get => _available;
        set => _available = value && OperatingSystem.IsLinux();
    }

    /// <summary>
    /// Whether <paramref name="path"/> (a link is not followed) is a regular file with no other name (no hard link
    /// elsewhere, not a FIFO or a device); null when this cannot be told here (not Linux, no statx) or the file is gone.
    /// </summary>
    public static bool? IsLoneRegularFile(string path)
    {
        if (!_available)
        {
            return null;
        }

        var buffer = stackalloc byte[StatxBytes];
        try
        {
            if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType | StatxMode | StatxNlink, buffer) != 0)
            {
                return null;
            }
        }
        catch (EntryPointNotFoundException)
        {
            _available = false; // glibc older than 2.28
            return null;
        }

        var nlink = *(uint*)(buffer + 16);
        var mode = *(ushort*)(buffer + 28);
        return (mode & 0xF000) == 0x8000 && nlink == 1;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int directoryFd, string path, int flags, uint mask, byte* buffer);
}
