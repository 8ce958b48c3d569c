using Microsoft.Data.Sqlite;
using Uet.State;
using Uet.State.Sqlite;
using Uet.Tests.Support;
using Xunit;

namespace Uet.Tests.Execution;

public sealed class CleanCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public CleanCliTests()
    {
        TestRepository.Create(_dir.Path, init: true);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private string Worktrees() => CliRunner.Run(_dir.Path, "git", ["worktree", "list", "--porcelain"]).Stdout;

    [Fact]
    public async Task Clean_RemovesCrashedRunsWorktreesAndKeepsTheLiveRun()
    {
        var dead = Path.Combine(_dir.Path, ".worktrees", "r-dead", "ws-a-1");
        var live = Path.Combine(_dir.Path, ".worktrees", "r-live", "ws-b-1");
        CliRunner.Git(_dir.Path, "worktree", "add", "-q", "--detach", dead, "HEAD");
        CliRunner.Git(_dir.Path, "worktree", "add", "-q", "--detach", live, "HEAD");
        await using (var store = SqliteStateStore.Open(Path.Combine(_dir.Path, ".state", "uet.db"), TimeProvider.System))
        {
            await RunLock.AcquireAsync(store, "r-live", TimeProvider.System, TimeSpan.FromMinutes(5), CancellationToken.None);
        }

        var dry = CliRunner.Uet(_dir.Path, "clean", "--dry-run");
        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Contains($"would remove {dead}", dry.Stdout, StringComparison.Ordinal);
        Assert.True(Directory.Exists(dead));

        var result = CliRunner.Uet(_dir.Path, "clean");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("(run r-live is live)", result.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.GetDirectoryName(dead)));
        Assert.True(Directory.Exists(live));
        Assert.DoesNotContain("r-dead", Worktrees(), StringComparison.Ordinal);
        Assert.Contains("r-live", Worktrees(), StringComparison.Ordinal);
    }
}
