using System.Runtime.Versioning;
using Uet.Execution;
using Uet.Tests.Support;
using Xunit;

namespace Uet.Tests.Execution;

[UnsupportedOSPlatform("windows")]
public sealed class ScratchFoldersTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private string Source => Path.Combine(_dir.Path, "source");

    private string Root => Path.Combine(_dir.Path, "run");

    public ScratchFoldersTests()
    {
        _dir.Write("source/README.md", "base\n");
        _dir.Write("source/src/a.txt", "aaaa\n");
        _dir.Write("source/src/deep/b.txt", "bbbb\n");
        _dir.Write("source/script.sh", "#!/bin/sh\necho hi\n");
        File.SetUnixFileMode(Path.Combine(Source, "script.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _dir.Write("source/.git/HEAD", "not copied\n");
        _dir.Write("source/pkg/__init__.py", string.Empty);
        Directory.CreateDirectory(Path.Combine(Source, "empty"));
        File.CreateSymbolicLink(Path.Combine(Source, "link"), "README.md");
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Prepare_CopiesTheFilesWithoutGitOrLinks()
    {
        var scratch = new ScratchFolders(Source, Root);

        var folder = scratch.Prepare("w-1");

        Assert.Equal(Path.Combine(Root, "scratch-w-1"), folder);
        Assert.Equal(["README.md", "empty/", "pkg/", "pkg/__init__.py", "script.sh", "src/", "src/a.txt", "src/deep/", "src/deep/b.txt"], Tree(folder).Keys);
        Assert.Equal(Tree(Source).Where(e => e.Key is not ("link" or ".git/" or ".git/HEAD")), Tree(folder));
    }

    [Fact]
    public void Prepare_AgainAfterATool_PutsBackEveryChangeAndKeepsTheSameFolder()
    {
        var (scratch, folder, expected) = PrepareFirst();
        var outside = _dir.Write("outside.txt", "must not change\n");

        File.WriteAllText(Path.Combine(folder, "README.md"), "BASE\n"); // same length, other bytes
        File.AppendAllText(Path.Combine(folder, "src", "a.txt"), "more\n");
        File.SetUnixFileMode(Path.Combine(folder, "script.sh"), UnixFileMode.UserRead);
        File.Delete(Path.Combine(folder, "src", "deep", "b.txt"));
        Directory.Delete(Path.Combine(folder, "empty"));
        File.WriteAllText(Path.Combine(folder, "new.txt"), "added\n");
        Directory.CreateDirectory(Path.Combine(folder, "build", "obj"));
        File.WriteAllText(Path.Combine(folder, "build", "obj", "x.o"), "x");
        Directory.CreateDirectory(Path.Combine(folder, ".git"));
        Directory.Move(Path.Combine(folder, "src", "deep"), Path.Combine(folder, "moved"));
        File.CreateSymbolicLink(Path.Combine(folder, "src", "deep"), outside);

        Assert.Equal(folder, scratch.Prepare("w-1"));

        Assert.Equal(expected, Tree(folder));
        Assert.Equal("must not change\n", File.ReadAllText(outside));
        // The link to a folder outside was removed, not followed, and src/deep made again as a folder of its own.
        Assert.Null(new DirectoryInfo(Path.Combine(folder, "src", "deep")).LinkTarget);
        Assert.False(Directory.Exists(Path.Combine(folder, "moved")));
    }

    [Fact]
    public void Prepare_AgainAfterSameLengthChanges_ToASmallAndALargeFile_PutsBothBack()
    {
        // A change that keeps the size must be seen by the content comparison, also in the last byte of a file larger
        // than one read, and in a file that was empty.
        var large = new string('x', 100_000) + "\n";
        _dir.Write("source/big.txt", large);
        var (scratch, folder, expected) = PrepareFirst();

        File.WriteAllText(Path.Combine(folder, "big.txt"), new string('x', 99_999) + "y\n");
        File.WriteAllText(Path.Combine(folder, "src", "a.txt"), "aaaa!");
        Assert.Equal(folder, scratch.Prepare("w-1"));
        Assert.Equal(expected, Tree(folder));
        Assert.Equal(large, File.ReadAllText(Path.Combine(folder, "big.txt")));

        File.WriteAllText(Path.Combine(folder, "pkg", "__init__.py"), "x"); // an empty file that is no longer empty
        Assert.Equal(folder, scratch.Prepare("w-1"));
        Assert.Equal(expected, Tree(folder));
    }

    [Fact]
    public void Prepare_OnceTheStampsAreSettled_ReadsNoFile_YetSeesAChangeThatKeptSizeAndTime()
    {
        var (scratch, folder, expected) = PrepareFirst();
        Settle();
        scratch.Prepare("w-1"); // the copies' ctimes were too new to trust when stamped: each file is compared once more
        var compared = scratch.Comparisons;
        Assert.True(compared >= 5, $"{compared} files compared");

        // Every stamp as it was: no file read. On tmpfs, overlayfs...: stamps prove nothing, and every file is read.
        var trusted = FileKind.KeepsChangeTimes(_dir.Path);
        Assert.Equal(folder, scratch.Prepare("w-1"));
        Assert.Equal(trusted ? compared : 2 * compared, scratch.Comparisons);

        var readme = Path.Combine(folder, "README.md");
        var written = File.GetLastWriteTimeUtc(readme);
        File.WriteAllText(readme, "BASE\n"); // same size, same inode
        File.SetLastWriteTimeUtc(readme, written); // and its old time: only its ctime says it changed
        Assert.Equal(folder, scratch.Prepare("w-1"));
        Assert.Equal(expected, Tree(folder));
        Assert.Equal(trusted ? compared + 1 : 3 * compared, scratch.Comparisons);
    }

    [Fact]
    public void Prepare_OnceTheStampsAreSettled_SeesAWriteThroughAMemoryMapLeftOpen()
    {
        // A process the tool left behind (here: this test) keeps README.md mapped and writes through the map. Only a
        // write to a clean page sets the ctime: the put-back that finds the file equal must leave it clean.
        var (scratch, folder, expected) = PrepareFirst();

        WriteThroughAMapAroundAPutBack(scratch, folder);

        Assert.Equal(expected, Tree(folder));
    }

    [Fact]
    public void Prepare_OnTmpfs_ComparesEveryFile_ForItsCtimeMissesWritesThroughAMap()
    {
        // tmpfs sets no ctime for a write through a memory map, flushed or not: there a stamp proves nothing.
        var shm = "/dev/shm";
        if (!Directory.Exists(shm) || FileKind.KeepsChangeTimes(shm))
        {
            return; // no tmpfs here to try
        }

        var dir = Path.Combine(shm, "uet-test-" + Guid.NewGuid().ToString("N"));
        var source = Path.Combine(dir, "source");
        Directory.CreateDirectory(source);
        try
        {
            File.WriteAllText(Path.Combine(source, "README.md"), "base\n");
            var scratch = new ScratchFolders(source, Path.Combine(dir, "run"));
            var folder = scratch.Prepare("w-1");

            WriteThroughAMapAroundAPutBack(scratch, folder);

            Assert.Equal("base\n", File.ReadAllText(Path.Combine(folder, "README.md")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task OpenRegularFile_RefusesAFifoAtOnce_AndALink_AndOpensAFile()
    {
        var fifo = Path.Combine(_dir.Path, "fifo");
        CliRunner.Run(_dir.Path, "mkfifo", [fifo]);
        var file = _dir.Write("file.txt", "content\n");
        var link = Path.Combine(_dir.Path, "link");
        File.CreateSymbolicLink(link, file);

        // Nobody ever opens the FIFO for writing: an open that blocks would never return.
        var opening = Task.Run(() => FileKind.OpenRegularFile(fifo));
        Assert.Same(opening, await Task.WhenAny(opening, Task.Delay(TimeSpan.FromSeconds(10))));
        Assert.Null(await opening);
        Assert.Null(FileKind.OpenRegularFile(link));
        Assert.Null(FileKind.OpenRegularFile(Path.Combine(_dir.Path, "missing")));
        using var opened = FileKind.OpenRegularFile(file);
        Assert.NotNull(opened);
        using var stream = new FileStream(opened, FileAccess.Read, 1);
        Assert.Equal("content\n", new StreamReader(stream).ReadToEnd());
    }

    [Fact]
    public void RemoveAll_AFolderWithANameThatIsNotUtf8_IsReportedLeftOver_NotThrown()
    {
        // .NET reads such a name with U+FFFD and cannot name it back: the folder cannot be deleted from here, and the
        // run's end must say so (for 'uet clean'), not crash.
        var (scratch, folder, _) = PrepareFirst();
        CliRunner.Run(folder, "sh", ["-c", "mkdir \"$(printf 'bad\\376')\" && touch \"$(printf 'bad\\376')/x\""]);

        var left = scratch.RemoveAll();

        Assert.Equal([folder], left);
        CliRunner.Run(_dir.Path, "rm", ["-rf", folder]);
    }

    [Fact]
    public void FileStamp_FarOutsideTheCalendar_IsJudgedWithoutAnError()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        Assert.False(new FileStamp(1, 1, 300_000_000_000, 5).Settled(now)); // year 11,000: not settled
        Assert.True(new FileStamp(1, 1, -300_000_000_000, 5).Settled(now));
        Assert.True(new FileStamp(1, 1, 1_800_000_000, 5).Settled(now.AddMilliseconds(51)));
        Assert.False(new FileStamp(1, 1, 1_800_000_000, 5).Settled(now.AddMilliseconds(49)));
        Assert.False(new FileStamp(1, 1, 1_800_000_000, 0).Settled(now.AddSeconds(2.9))); // no nanoseconds: 3 s
    }

    [Fact]
    public void Prepare_OnceTheStampsAreSettled_StillFollowsASourceFileThatChanged()
    {
        var (scratch, folder, _) = PrepareFirst();
        Settle();
        scratch.Prepare("w-1");

        File.WriteAllText(Path.Combine(Source, "README.md"), "BASE\n"); // same size
        Assert.Equal(folder, scratch.Prepare("w-1"));
        Assert.Equal("BASE\n", File.ReadAllText(Path.Combine(folder, "README.md")));
    }

    [Fact]
    public void Prepare_AgainWithNothingChanged_CreatesNothing()
    {
        var scratch = new ScratchFolders(Source, Root);
        var folder = scratch.Prepare("w-1");
        var inodes = Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).ToDictionary(p => p, Inode);

        scratch.Prepare("w-1");

        Assert.Equal(inodes, Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).ToDictionary(p => p, Inode));
    }

    [Fact]
    public void Prepare_AFileMadeAHardLinkToAFileOutside_LeavesThatFileAlone()
    {
        var scratch = new ScratchFolders(Source, Root);
        var folder = scratch.Prepare("w-1");
        var outside = _dir.Write("outside.txt", "outside!\n");
        var inFolder = Path.Combine(folder, "README.md");
        File.Delete(inFolder);
        CliRunner.Run(folder, "ln", [outside, inFolder]);

        scratch.Prepare("w-1");

        Assert.Equal("base\n", File.ReadAllText(inFolder));
        Assert.Equal("outside!\n", File.ReadAllText(outside));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(outside) & (UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute));
    }

    [Fact]
    public void Prepare_AHardLinkWithTheSameContent_IsReplaced_SoTheNextToolCannotWriteThroughIt()
    {
        var scratch = new ScratchFolders(Source, Root);
        var folder = scratch.Prepare("w-1");
        var inFolder = Path.Combine(folder, "README.md");
        var original = Path.Combine(Source, "README.md");
        File.Delete(inFolder);
        CliRunner.Run(folder, "ln", [original, inFolder]);

        scratch.Prepare("w-1");
        File.AppendAllText(inFolder, "the next tool writes\n");

        Assert.Equal("base\n", File.ReadAllText(original));
    }

    [Fact]
    public async Task Prepare_AFileTurnedIntoAFifo_IsReplaced_WithoutReadingIt()
    {
        var (scratch, folder, expected) = PrepareFirst();
        ReplaceWithFifo(folder, "pkg/__init__.py");

        await Task.Run(() => scratch.Prepare("w-1")).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(expected, Tree(folder));
    }

    [Fact]
    public async Task Prepare_WithoutStatx_CopiesEveryFileAgain_AndAFifoStillCannotHangIt()
    {
        var (scratch, folder, expected) = PrepareFirst();
        ReplaceWithFifo(folder, "pkg/__init__.py");
        FileKind.Enabled = false;
        try
        {
            await Task.Run(() => scratch.Prepare("w-1")).WaitAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            FileKind.Enabled = true;
        }

        Assert.Equal(expected, Tree(folder));
    }

    [Fact]
    public void Prepare_TheFolderReplacedByALink_NeverTouchesWhatTheLinkPointsTo()
    {
        var (scratch, folder, expected) = PrepareFirst();
        var elsewhere = Path.Combine(_dir.Path, "home-project");
        _dir.Write("home-project/notes.txt", "keep me\n");
        _dir.Write("home-project/README.md", "mine\n");
        Directory.Delete(folder, recursive: true);
        Directory.CreateSymbolicLink(folder, elsewhere);

        Assert.Equal(folder, scratch.Prepare("w-1"));

        Assert.Null(new DirectoryInfo(folder).LinkTarget);
        Assert.Equal(expected, Tree(folder));
        Assert.Equal("keep me\n", File.ReadAllText(Path.Combine(elsewhere, "notes.txt")));
        Assert.Equal("mine\n", File.ReadAllText(Path.Combine(elsewhere, "README.md")));

        // The same at the run's end.
        Directory.Delete(folder, recursive: true);
        Directory.CreateSymbolicLink(folder, elsewhere);
        Assert.Empty(scratch.RemoveAll());
        Assert.True(File.Exists(Path.Combine(elsewhere, "notes.txt")));
    }

    [Fact]
    public void Prepare_TheFolderItselfMadeReadOnly_GetsItsModeBack()
    {
        var (scratch, folder, expected) = PrepareFirst();
        var mode = File.GetUnixFileMode(folder);
        File.WriteAllText(Path.Combine(folder, "x"), "added");
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserExecute);

        scratch.Prepare("w-1");

        Assert.Equal(mode, File.GetUnixFileMode(folder));
        Assert.Equal(expected, Tree(folder));
    }

    [Fact]
    public void Prepare_FoldersLeftWithoutPermissions_ArePutBack()
    {
        var (scratch, folder, expected) = PrepareFirst();
        File.WriteAllText(Path.Combine(folder, "src", "deep", "junk"), "x");
        File.SetUnixFileMode(Path.Combine(folder, "src", "deep"), UnixFileMode.None);
        File.SetUnixFileMode(Path.Combine(folder, "src"), UnixFileMode.UserRead | UnixFileMode.UserExecute);

        scratch.Prepare("w-1");

        Assert.Equal(expected, Tree(folder));
    }

    [Fact]
    public void Workers_HaveTheirOwnFolders_AndRemoveAllDeletesThem()
    {
        var scratch = new ScratchFolders(Source, Root);
        var one = scratch.Prepare("w-1");
        var two = scratch.Prepare("w-2");
        File.WriteAllText(Path.Combine(one, "README.md"), "changed by w-1\n");

        Assert.NotEqual(one, two);
        Assert.Equal("base\n", File.ReadAllText(Path.Combine(two, "README.md")));

        scratch.RemoveAll();

        Assert.False(Directory.Exists(one));
        Assert.False(Directory.Exists(two));
        Assert.True(File.Exists(Path.Combine(Source, "README.md")));
    }

    /// <summary>The empty file <paramref name="name"/> of <paramref name="folder"/> turned into a FIFO with the source file's mode.</summary>
    private void ReplaceWithFifo(string folder, string name)
    {
        var path = Path.Combine(folder, name);
        File.Delete(path);
        CliRunner.Run(folder, "mkfifo", ["-m", Convert.ToString((int)File.GetUnixFileMode(Path.Combine(Source, name)), 8), path]);
    }

    /// <summary>Waits longer than <see cref="FileStamp.Settled"/>'s margin on this file system: stamps read after it are trusted.</summary>
    private void Settle()
    {
        var probe = _dir.Write("settle-probe", "x");
        var nanosecondTimes = FileKind.Facts(probe)?.Stamp is { ChangedNanoseconds: > 0 };
        Thread.Sleep(nanosecondTimes ? TimeSpan.FromMilliseconds(80) : TimeSpan.FromSeconds(3.2));
    }

    /// <summary>
    /// A process the tool left behind (here: this test) keeps README.md of w-1's <paramref name="folder"/> mapped: it
    /// writes the same byte through the map (a new ctime, the same content), the put-back after the stamps settle finds
    /// the file equal and stamps it, then the map writes 'X' and w-1's folder is put back again.
    /// </summary>
    private void WriteThroughAMapAroundAPutBack(ScratchFolders scratch, string folder)
    {
        using var map = System.IO.MemoryMappedFiles.MemoryMappedFile.CreateFromFile(Path.Combine(folder, "README.md"), FileMode.Open, null, 0, System.IO.MemoryMappedFiles.MemoryMappedFileAccess.ReadWrite);
        using var view = map.CreateViewAccessor(0, 0, System.IO.MemoryMappedFiles.MemoryMappedFileAccess.ReadWrite);
        view.Write(0, (byte)'b');
        Settle();
        scratch.Prepare("w-1");

        view.Write(0, (byte)'X');
        Assert.Equal(folder, scratch.Prepare("w-1"));
    }

    /// <summary>Worker w-1's folder prepared the first time, and its tree then: what every put-back must give again.</summary>
    private (ScratchFolders Scratch, string Folder, SortedDictionary<string, string> Expected) PrepareFirst()
    {
        var scratch = new ScratchFolders(Source, Root);
        var folder = scratch.Prepare("w-1");
        return (scratch, folder, Tree(folder));
    }

    /// <summary>Every entry under <paramref name="root"/>: folders end in '/', files map to their mode and content.</summary>
    private static SortedDictionary<string, string> Tree(string root)
    {
        var tree = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in new DirectoryInfo(root).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
        {
            var name = Path.GetRelativePath(root, entry.FullName).Replace('\\', '/');
            if (entry.LinkTarget is not null)
            {
                tree[name] = "link -> " + entry.LinkTarget;
            }
            else if (entry is DirectoryInfo)
            {
                tree[name + "/"] = entry.UnixFileMode.ToString();
            }
            else
            {
                tree[name] = entry.UnixFileMode + " " + File.ReadAllText(entry.FullName);
            }
        }

        return tree;
    }

    private static string Inode(string path) => CliRunner.Run(Path.GetDirectoryName(path)!, "stat", ["-c", "%i", path]).Stdout.Trim();
}
