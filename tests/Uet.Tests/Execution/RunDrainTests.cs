using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Uet.Tests.Support;
using Xunit;

namespace Uet.Tests.Execution;

/// <summary>Ctrl+C (SIGINT) during a run: no new tasks, running ones killed after the grace period, state consistent.</summary>
public sealed class RunDrainTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private string Scalar(string sql) => TestRepository.Scalar(_dir.Path, sql);

    [Fact]
    public async Task Run_Interrupted_DrainsKillsAfterGraceAndLeavesResumableState()
    {
        TestRepository.Create(_dir.Path, init: true);
        var pidDir = Path.Combine(_dir.Path, "pids");
        Directory.CreateDirectory(pidDir);
        // ws-a finishes within the grace period and completes; ws-b never would and is killed.
        _dir.Write("workstreams/ws-a.json", $$"""{ "id": "ws-a", "files_scope": ["a.txt"], "command": ["sh", "-c", "echo $$ > {{pidDir}}/a; sleep 2; echo a > a.txt"] }""");
        _dir.Write("workstreams/ws-b.json", $$"""{ "id": "ws-b", "command": ["sh", "-c", "echo $$ > {{pidDir}}/b; sleep 60"] }""");

        _dir.Write("workstreams/ws-c.json", """{ "id": "ws-c", "command": ["true"] }""");
        _dir.Write("workstreams/ws-d.json", """{ "id": "ws-d", "depends_on": ["ws-a"], "command": ["true"] }""");

        // In its own process group, as a terminal would run it: Ctrl+C there signals the whole group.
        using var run = CliRunner.StartUetInNewGroup(_dir.Path, "run", "--workers", "2", "--run-id", "r-int", "--grace", "4s");
        var stdout = run.StandardOutput.ReadToEndAsync();
        var stderr = run.StandardError.ReadToEndAsync();
        var waited = Stopwatch.StartNew();
        while (Directory.GetFiles(pidDir).Length < 2 && waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(100);
        }

        Assert.Equal(2, Directory.GetFiles(pidDir).Length);
        CliRunner.Run(_dir.Path, "kill", ["-INT", "--", "-" + run.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(run.WaitForExit(TimeSpan.FromSeconds(30)), "uet did not stop after SIGINT");

        Assert.True(run.ExitCode == 130, $"exit {run.ExitCode}\n{await stdout}\n{await stderr}");
        // Interrupted, not ended: the run stays 'running' for 'uet resume'.
        Assert.Equal("running", Scalar("SELECT state FROM runs WHERE run_id = 'r-int'"));
        Assert.Contains("uet resume r-int", await stdout, StringComparison.Ordinal);
        Assert.Contains("Interrupted run r-int", CliRunner.Uet(_dir.Path, "status").Stdout, StringComparison.Ordinal);
        // The tools did not get the terminal's SIGINT: ws-a finished within the grace and completed (and its dependent
        // was not started: no new work while draining); ws-b was killed after the grace and went back to ready.
        Assert.Equal("completed", Scalar("SELECT state FROM tasks WHERE task_id = 'r-int:ws-a'"));
        Assert.Equal("ready", Scalar("SELECT state FROM tasks WHERE task_id = 'r-int:ws-b'"));
        Assert.NotEqual("running", Scalar("SELECT state FROM tasks WHERE task_id = 'r-int:ws-d'"));
        Assert.Equal("0", Scalar("SELECT COUNT(*) FROM steps WHERE task_id = 'r-int:ws-d'"));
        Assert.Equal("0", Scalar("SELECT COUNT(*) FROM steps WHERE state = 'running'"));
        Assert.Equal("2", Scalar("SELECT COUNT(*) FROM workers WHERE state = 'TERMINATED'"));
        Assert.Equal(string.Empty, Scalar("SELECT run_id FROM run_lock"));
        foreach (var pidFile in Directory.GetFiles(pidDir))
        {
            var pid = File.ReadAllText(pidFile).Trim();
            Assert.True(ProcessProbe.IsGone(pid), $"tool process {pid} survived");
        }

        Assert.Single(CliRunner.Run(_dir.Path, "git", ["worktree", "list"]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
