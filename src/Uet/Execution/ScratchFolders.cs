using System.Collections.Concurrent;

namespace Uet.Execution;

/// <summary>
/// The folders tools run in under <c>isolation: none</c>: one per worker, a copy of the integration branch's files
/// (no <c>.git</c>), made for the worker's first attempt and put back to that copy before each later one.
/// </summary>
/// <remarks>
/// Putting a folder back compares it with what was copied and rewrites only what the last tool changed: files it
/// added or turned into links are deleted, files it changed (content or mode) are copied again, files and folders it
/// deleted are made again. An attempt whose tool changed nothing thus creates and deletes no file or folder: on a
/// disk where a new inode costs 0.1-0.6 ms (ext4 searches past recently deleted ones), a copy made and deleted per
/// attempt was most of uet's own time per task. Whatever the compare cannot walk (a folder the tool made unreadable)
/// gets a fresh copy instead.
/// </remarks>
internal sealed class ScratchFolders(string source, string root)
{
    private readonly ConcurrentDictionary<string, Dictionary<string, Entry>> _copies = new(StringComparer.Ordinal);

    /// <summary>The worker's folder, equal to the source's files: copied the first time, put back after that.</summary>
    public string Prepare(string workerId)
    {
        var folder = Path.Combine(root, "scratch-" + workerId);
        if (_copies.TryGetValue(workerId, out var copied))
        {
            try
            {
                PutBack(folder, copied);
                return folder;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A fresh copy below.
            }
        }

        if (Directory.Exists(folder))
        {
            Delete(folder);
        }

        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        Copy(source, folder, string.Empty, entries);
        _copies[workerId] = entries;
        return folder;
    }

    /// <summary>Deletes every worker's folder (the run's end).</summary>
    public void RemoveAll()
    {
        foreach (var workerId in _copies.Keys)
        {
            var folder = Path.Combine(root, "scratch-" + workerId);
            if (Directory.Exists(folder))
            {
                Delete(folder);
            }
        }

        _copies.Clear();
    }

    private readonly record struct Entry(bool IsDirectory, long Length, UnixFileMode Mode);

    private static void Copy(string from, string to, string relative, Dictionary<string, Entry> entries)
    {
        Directory.CreateDirectory(to);
        entries[relative] = new Entry(true, 0, ModeOf(to));
        foreach (var entry in new DirectoryInfo(from).EnumerateFileSystemInfos())
        {
            if (relative.Length == 0 && entry.Name == ".git")
            {
                continue;
            }

            var target = Path.Combine(to, entry.Name);
            var name = relative.Length == 0 ? entry.Name : relative + "/" + entry.Name;
            if (entry is DirectoryInfo directory && directory.LinkTarget is null)
            {
                Copy(directory.FullName, target, name, entries);
            }
            else if (entry is FileInfo file && file.LinkTarget is null)
            {
                file.CopyTo(target);
                entries[name] = new Entry(false, file.Length, ModeOf(target));
            }
        }
    }

    private void PutBack(string folder, Dictionary<string, Entry> copied)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException(folder);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal) { string.Empty };
        Walk(folder, string.Empty, copied, seen);
        if (seen.Count == copied.Count)
        {
            return;
        }

        // What the tool deleted, parents before children.
        foreach (var (name, entry) in copied.Where(e => !seen.Contains(e.Key)).OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            var target = Path.Combine(folder, name);
            if (entry.IsDirectory)
            {
                Directory.CreateDirectory(target);
                SetMode(target, entry.Mode);
            }
            else
            {
                File.Copy(Path.Combine(source, name), target);
            }
        }
    }

    private void Walk(string folder, string relative, Dictionary<string, Entry> copied, HashSet<string> seen)
    {
        foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos())
        {
            var name = relative.Length == 0 ? entry.Name : relative + "/" + entry.Name;
            var isDirectory = entry is DirectoryInfo;
            if (entry.LinkTarget is not null || !copied.TryGetValue(name, out var was) || was.IsDirectory != isDirectory)
            {
                // Added by the tool, or a file turned into a folder or a link (a link is removed, never followed).
                if (isDirectory && entry.LinkTarget is null)
                {
                    Delete(entry.FullName);
                }
                else
                {
                    File.Delete(entry.FullName);
                }

                continue;
            }

            seen.Add(name);
            if (isDirectory)
            {
                if (ModeOf(entry) != was.Mode)
                {
                    SetMode(entry.FullName, was.Mode);
                }

                Walk(entry.FullName, name, copied, seen);
            }
            else if (ModeOf(entry) != was.Mode || ((FileInfo)entry).Length != was.Length || !SameContent(Path.Combine(source, name), entry.FullName))
            {
                // Deleted, not written over or chmod-ed: the tool may have made it a hard link to a file elsewhere.
                File.Delete(entry.FullName);
                File.Copy(Path.Combine(source, name), entry.FullName);
            }
        }
    }

    private static bool SameContent(string a, string b)
    {
        const int Chunk = 64 * 1024;
        using var first = new FileStream(a, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
        using var second = new FileStream(b, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
        if (first.Length != second.Length)
        {
            return false;
        }

        var left = new byte[Math.Min(Chunk, first.Length)];
        var right = new byte[left.Length];
        while (true)
        {
            var read = first.ReadAtLeast(left, left.Length, throwOnEndOfStream: false);
            if (read == 0)
            {
                return true;
            }

            if (second.ReadAtLeast(right, read, throwOnEndOfStream: false) != read || !left.AsSpan(0, read).SequenceEqual(right.AsSpan(0, read)))
            {
                return false;
            }
        }
    }

    /// <summary>Deletes a folder the tool may have left without write or search permission.</summary>
    private static void Delete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (UnauthorizedAccessException)
        {
            foreach (var directory in new DirectoryInfo(folder).EnumerateDirectories("*", SearchOption.AllDirectories))
            {
                if (directory.LinkTarget is null && !OperatingSystem.IsWindows())
                {
                    directory.UnixFileMode |= UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
                }
            }

            Directory.Delete(folder, recursive: true);
        }
    }

    // Windows has no modes to put back.
    private static UnixFileMode ModeOf(string path) => OperatingSystem.IsWindows() ? UnixFileMode.None : File.GetUnixFileMode(path);

    private static UnixFileMode ModeOf(FileSystemInfo entry) => OperatingSystem.IsWindows() ? UnixFileMode.None : entry.UnixFileMode;

    private static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }
}
