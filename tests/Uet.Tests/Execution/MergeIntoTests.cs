using Microsoft.Data.Sqlite;
using Uet.Tests.Support;
using Xunit;

namespace Uet.Tests.Execution;

/// <summary><c>uet run --merge-into</c>: fast-forward only, through the branch's worktree when it is checked out.</summary>
public sealed class MergeIntoTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public MergeIntoTests()
    {
        TestRepository.Create(_dir.Path, init: true);
        _dir.Write("workstreams/ws-a.json", """{ "id": "ws-a", "files_scope": ["a.txt"], "command": ["sh", "-c", "echo a > a.txt"] }""");
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private string Rev(string reference) => CliRunner.Run(_dir.Path, "git", ["rev-parse", reference]).Stdout.Trim();

    [Fact]
    public void MergeInto_CheckedOutAndClean_FilesAndBranchMoveTogether()
    {
        var result = CliRunner.Uet(_dir.Path, "run", "--run-id", "r-m", "--merge-into", "main");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("merged: main fast-forwarded", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(Rev("uet/r-m"), Rev("main"));
        Assert.Equal("a\n", File.ReadAllText(Path.Combine(_dir.Path, "a.txt")));
        Assert.Empty(CliRunner.Run(_dir.Path, "git", ["status", "--porcelain", "--untracked-files=no"]).Stdout.Trim()); // files and index match the moved branch
    }

    [Fact]
    public void MergeInto_CheckedOutWithChanges_RefusedNamingTheWorktree()
    {
        var before = Rev("main");
        _dir.Write("README.md", "edited by the user\n");

        var result = CliRunner.Uet(_dir.Path, "run", "--run-id", "r-d", "--merge-into", "main");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"main is checked out in {_dir.Path}, which has uncommitted changes", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Rev("main"));
        Assert.Equal("edited by the user\n", File.ReadAllText(Path.Combine(_dir.Path, "README.md")));
        Assert.False(File.Exists(Path.Combine(_dir.Path, "a.txt")));
    }

    [Fact]
    public void MergeInto_BranchThatMoved_LeftAsItIs()
    {
        CliRunner.Git(_dir.Path, "branch", "release");
        var moved = CliRunner.Run(_dir.Path, "git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit-tree", "-p", "release", "-m", "moved", "HEAD^{tree}"]).Stdout.Trim();
        CliRunner.Git(_dir.Path, "update-ref", "refs/heads/release", moved);

        var result = CliRunner.Uet(_dir.Path, "run", "--run-id", "r-x", "--merge-into", "release");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("release has moved", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(moved, Rev("release"));
    }

    [Fact]
    public void MergeInto_BranchNotCheckedOut_RefMovedByFastForward()
    {
        CliRunner.Git(_dir.Path, "branch", "staging");

        var result = CliRunner.Uet(_dir.Path, "run", "--run-id", "r-s", "--merge-into", "staging");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Rev("uet/r-s"), Rev("staging"));
        Assert.False(File.Exists(Path.Combine(_dir.Path, "a.txt"))); // main's checkout is untouched
    }
}
