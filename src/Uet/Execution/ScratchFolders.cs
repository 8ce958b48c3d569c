using System.Collections.Concurrent;
using System.IO.Enumeration;
using Microsoft.Win32.SafeHandles;

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
/// gets a fresh copy instead. A file is read (both copies, byte by byte) only when it may have changed: once the source
/// file and its copy have been found equal, their <see cref="FileStamp"/>s (inode, size, ctime) are kept, and while
/// both stay the same and were settled when read, neither was written since (Linux on ext4, XFS or Btrfs; on other file
/// systems every file is compared, and without statx every file is copied again).
/// </remarks>
internal sealed class ScratchFolders(string source, string root)
{
    private readonly ConcurrentDictionary<string, Scratch> _made = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<string> _leftovers = [];
    private int _renamed;

    /// <summary>The worker's folder, equal to the source's files: copied the first time, put back after that.</summary>
    public string Prepare(string workerId)
    {
        if (_made.TryGetValue(workerId, out var made))
        {
            try
            {
                PutBack(made);
                return made.Folder;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A fresh copy below.
                Forget(made.Folder);
            }
        }

        var folder = Path.Combine(root, "scratch-" + workerId);
        if (!TryDelete(folder))
        {
            // What the last tool left cannot be removed (still in use, or made so that even its owner cannot delete it):
            // another folder, and the run's end tries again.
            Forget(folder);
            folder = Path.Combine(root, $"scratch-{workerId}-{Interlocked.Increment(ref _renamed)}");
            if (!TryDelete(folder))
            {
                throw new IOException($"cannot make a scratch folder for worker {workerId}: {folder} is in the way and cannot be removed");
            }
        }

        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        Copy(source, folder, string.Empty, entries);
        _made[workerId] = new Scratch(folder, entries, FileKind.KeepsChangeTimes(folder) && FileKind.KeepsChangeTimes(source));
        return folder;
    }

    /// <summary>Deletes every worker's folder (the run's end); returns those it could not delete.</summary>
    public IReadOnlyList<string> RemoveAll()
    {
        var failed = _made.Values.Select(m => m.Folder).Concat(_leftovers).Distinct(StringComparer.Ordinal).Where(f => !TryDelete(f)).ToList();
        _made.Clear();
        _leftovers.Clear();
        return failed;
    }

    private void Forget(string folder)
    {
        if (!TryDelete(folder))
        {
            _leftovers.Add(folder);
        }
    }

    /// <summary>Files read to compare a source file with its copy (tests: the stamps spare the reads).</summary>
    internal int Comparisons => Volatile.Read(ref _comparisons);

    private int _comparisons;

    // The clock ctimes come from (the system's), never a run's test clock: a stamp is trusted by comparing the two.
    private static readonly TimeProvider FileClock = TimeProvider.System;

    /// <param name="Folder">The worker's folder.</param>
    /// <param name="Entries">What was copied into it, by path relative to it.</param>
    /// <param name="TrustsStamps">Both trees are on file systems whose ctimes see every change (else every file is compared).</param>
    private sealed record Scratch(string Folder, Dictionary<string, Entry> Entries, bool TrustsStamps);

    /// <param name="IsDirectory">A folder, else a file.</param>
    /// <param name="Length">A file's size.</param>
    /// <param name="Mode">Its permissions.</param>
    /// <param name="Equal">A file's stamps when it and its source were last known equal, and when they were read.</param>
    private readonly record struct Entry(bool IsDirectory, long Length, UnixFileMode Mode, Stamps? Equal = null);

    private sealed record Stamps(FileStamp Source, FileStamp Copy, DateTimeOffset TakenAt)
    {
        public static Stamps? Of(string source, string copy, DateTimeOffset? takenAt) =>
            takenAt is { } at ? Of(FileKind.Facts(source)?.Stamp, FileKind.Facts(copy)?.Stamp, at) : null;

        public static Stamps? Of(FileStamp? source, FileStamp? copy, DateTimeOffset takenAt) =>
            source is { } s && copy is { } c ? new Stamps(s, c, takenAt) : null;

        /// <summary>Both files are as they were when found equal: same stamps, read when no later change could keep them.</summary>
        public bool Unchanged(FileStamp? source, FileStamp? copy) =>
            source == Source && copy == Copy && Source.Settled(TakenAt) && Copy.Settled(TakenAt);
    }

    // Every entry, hidden ones included, and an unreadable folder is an error (the put-back then makes a fresh copy).
    private static readonly EnumerationOptions Listing = new() { AttributesToSkip = 0, IgnoreInaccessible = false };

    private static void Copy(string from, string to, string relative, Dictionary<string, Entry> entries) =>
        Copy(from, to, relative, entries, FileClock.GetUtcNow());

    private static void Copy(string from, string to, string relative, Dictionary<string, Entry> entries, DateTimeOffset takenAt)
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
                Copy(directory.FullName, target, name, entries, takenAt);
            }
            else if (entry is FileInfo file && file.LinkTarget is null)
            {
                file.CopyTo(target);
                entries[name] = new Entry(false, file.Length, ModeOf(target), Stamps.Of(file.FullName, target, takenAt));
            }
        }
    }

    private void PutBack(Scratch made)
    {
        var (folder, copied) = (made.Folder, made.Entries);
        var top = new DirectoryInfo(folder);
        if (top.LinkTarget is not null || !top.Exists)
        {
            // Gone, or a link put in its place: never walk (and delete in) whatever it points to.
            throw new IOException($"{folder} is no longer the worker's folder");
        }

        if (ModeOf(top) != copied[string.Empty].Mode)
        {
            SetMode(folder, copied[string.Empty].Mode);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal) { string.Empty };
        // Read before any file is: a stamp is trusted only if no change after this time could have kept it. None where
        // stamps are not trusted.
        DateTimeOffset? takenAt = made.TrustsStamps ? FileClock.GetUtcNow() : null;
        Walk(folder, string.Empty, copied, seen, takenAt);
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
                copied[name] = entry with { Equal = Stamps.Of(Path.Combine(source, name), target, takenAt) };
            }
        }
    }

    /// <param name="folder">The folder walked.</param>
    /// <param name="relative">Its path relative to the worker's folder.</param>
    /// <param name="copied">What was copied, by relative path; a file's stamps are updated.</param>
    /// <param name="seen">Filled with the relative paths found.</param>
    /// <param name="takenAt">When the walk began; null when stamps are not to be trusted (see <see cref="Scratch.TrustsStamps"/>).</param>
    private void Walk(string folder, string relative, Dictionary<string, Entry> copied, HashSet<string> seen, DateTimeOffset? takenAt)
    {
        // Entries are looked up by name in these two (one path step each, not the whole path: most of a put-back's
        // time on a large tree); by path where they cannot be opened. Both are closed, and the listing read whole,
        // before the subfolders are walked: a deep tree holds no descriptors per level.
        List<(string Path, string Name)> subfolders = [];
        using (var copyFolder = FileKind.OpenFolder(folder))
        using (var sourceFolder = FileKind.OpenFolder(Path.Combine(source, relative)))
        {
            WalkFiles(folder, relative, copied, seen, takenAt, copyFolder, sourceFolder, subfolders);
        }

        foreach (var (path, name) in subfolders)
        {
            Walk(path, name, copied, seen, takenAt);
        }
    }

    /// <summary>One folder's entries put back; its subfolders (their modes put back first) are left to the caller.</summary>
    private void WalkFiles(string folder, string relative, Dictionary<string, Entry> copied, HashSet<string> seen, DateTimeOffset? takenAt, SafeFileHandle? copyFolder, SafeFileHandle? sourceFolder, List<(string Path, string Name)> subfolders)
    {
        // Names and d_types only: .NET's FileSystemInfos would lstat every entry by its whole path first.
        var listing = new FileSystemEnumerable<(string Name, bool IsDirectory)>(folder, static (ref FileSystemEntry e) => (e.FileName.ToString(), e.IsDirectory), Listing).ToList();
        foreach (var (entryName, listedAsDirectory) in listing)
        {
            var path = Path.Combine(folder, entryName);
            var name = relative.Length == 0 ? entryName : relative + "/" + entryName;
            // One statx (Linux) says what the entry is: type, names, mode, size and stamp; .NET where there is none.
            var facts = FileKind.Facts(copyFolder, entryName, path);
            var isDirectory = facts?.IsDirectory ?? listedAsDirectory;
            var isLink = facts?.IsLink ?? (listedAsDirectory ? new DirectoryInfo(path) : (FileSystemInfo)new FileInfo(path)).LinkTarget is not null;
            if (isLink || !copied.TryGetValue(name, out var was) || was.IsDirectory != isDirectory)
            {
                // Added by the tool, or a file turned into a folder or a link (a link is removed, never followed).
                if (!TryDelete(path))
                {
                    throw new IOException($"cannot remove {path}, left by the last tool");
                }

                continue;
            }

            seen.Add(name);
            if (isDirectory)
            {
                if ((facts?.Mode ?? ModeOf(path)) != was.Mode)
                {
                    SetMode(path, was.Mode);
                }

                subfolders.Add((path, name));
                continue;
            }

            var from = Path.Combine(source, name);
            if (facts is { IsLoneRegular: true } copy && copy.Mode == was.Mode && copy.Size == was.Length
                && StillEqual(from, path, copy, was.Equal, takenAt, (sourceFolder, entryName), out var equal))
            {
                copied[name] = was with { Equal = equal };
                continue;
            }

            // Deleted, not written over or chmod-ed: it may be a hard link to a file elsewhere (then even with the same
            // content: the next tool would write through it), or a FIFO (reading it would wait for ever). Where that
            // cannot be told (no statx: not Linux), every file is copied again: slower, never wrong.
            File.Delete(path);
            File.Copy(from, path);
            copied[name] = was with { Equal = Stamps.Of(from, path, takenAt) };
        }
    }

    /// <summary>
    /// Whether a copy (a lone regular file of its source's mode and size) still equals its source: by their stamps when
    /// those can tell (<paramref name="takenAt"/> set and <paramref name="known"/> unchanged and settled), else byte by
    /// byte. <paramref name="sourceEntry"/>: the source file in its open folder; <paramref name="equal"/>: the stamps to keep for next time.
    /// </summary>
    private bool StillEqual(string from, string path, FileFacts copy, Stamps? known, DateTimeOffset? takenAt, (SafeFileHandle? Folder, string Name) sourceEntry, out Stamps? equal)
    {
        equal = known;
        if (takenAt is not { } at)
        {
            return SameContent(from, path);
        }

        if (known?.Unchanged(FileKind.Facts(sourceEntry.Folder, sourceEntry.Name, from)?.Stamp, copy.Stamp) == true)
        {
            return true;
        }

        // Flushed, then stamped, then compared: a process left behind that writes the copy through a shared memory map
        // sets its ctime only when it first writes a clean page, so a page left dirty could change again later without
        // a trace; a flushed one cannot.
        FileKind.Flush(from);
        FileKind.Flush(path);
        equal = Stamps.Of(from, path, at);
        return SameContent(from, path);
    }

    private bool SameContent(string a, string b)
    {
        const int Chunk = 64 * 1024;
        Interlocked.Increment(ref _comparisons);
        // Opened only if still regular files, without blocking: a FIFO put in place since the statx is not waited on.
        using var firstFile = FileKind.OpenRegularFile(a);
        using var secondFile = FileKind.OpenRegularFile(b);
        if (firstFile is null || secondFile is null)
        {
            return false;
        }

        using var first = new FileStream(firstFile, FileAccess.Read, 1);
        using var second = new FileStream(secondFile, FileAccess.Read, 1);
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

    /// <summary>
    /// Removes what is at <paramref name="path"/>, if anything: a link (never what it points to), a file, or a folder
    /// the tool may have left without write or search permission. False when it could not.
    /// </summary>
    private static bool TryDelete(string path)
    {
        try
        {
            var info = new DirectoryInfo(path);
            if (info.LinkTarget is not null || (!info.Exists && File.Exists(path)))
            {
                File.Delete(path);
            }
            else if (info.Exists)
            {
                try
                {
                    Directory.Delete(path, recursive: true);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    MakeDeletable(info);
                    Directory.Delete(path, recursive: true);
                }
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // ArgumentException: a name that is not UTF-8, which .NET cannot name back (its mode reads as invalid).
            return false;
        }
    }

    /// <summary>Gives the owner back what deleting needs, from the top down (a folder's children can be listed only then).</summary>
    private static void MakeDeletable(DirectoryInfo folder)
    {
        if (folder.LinkTarget is not null)
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            foreach (var file in folder.EnumerateFiles("*", SearchOption.AllDirectories))
            {
                file.Attributes = FileAttributes.Normal;
            }

            return;
        }

        folder.UnixFileMode |= UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        foreach (var child in folder.EnumerateDirectories())
        {
            MakeDeletable(child);
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
