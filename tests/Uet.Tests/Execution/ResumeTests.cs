using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Uet.Tests.Support;
using Xunit;

namespace Uet.Tests.Execution;

/// <summary>uet killed with SIGKILL in the middle of a run, then <c>uet resume</c>: nothing lost, nothing applied twice.</summary>
public sealed class ResumeTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    // Marker files the tools write: outside the repository (its tree must stay as the run leaves it), deleted with the test.
    private readonly TempDirectory _markers = new();

    public ResumeTests() => TestRepository.Create(_dir.Path, init: true);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
        _markers.Dispose();
    }

    private string Scalar(string sql) => TestRepository.Scalar(_dir.Path, sql);

    /// <summary>Starts uet run, waits until the slow workstream runs, and kills uet with SIGKILL.</summary>
    private async Task KillMidRunAsync(string runId)
    {
        var started = Path.Combine(_markers.Path, "slow-started");
        _dir.Write("workstreams/ws-slow.json", $$"""{ "id": "ws-slow", "depends_on": ["ws-a"], "files_scope": ["slow.txt"], "command": ["sh", "-c", "touch {{started}}; sleep 2; echo slow > slow.txt"] }""");
        File.Delete(started); // a run that continued an earlier one ran ws-slow again
        using var run = CliRunner.StartUetInNewGroup(_dir.Path, "run", "--run-id", runId);
        var waited = Stopwatch.StartNew();
        while (!File.Exists(started) && waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(50);
        }

        Assert.True(File.Exists(started), "ws-slow never started");
        run.Kill();
        run.WaitForExit();
        File.Delete(started);
    }

    [Fact]
    public async Task Run_WithAnUnfinishedRun_ContinuesIt_OrRefusesOtherWorkstreams_OrStartsANewOneWhenAsked()
    {
        _dir.Write("workstreams/ws-a.json", """{ "id": "ws-a", "files_scope": ["a.txt"], "command": ["sh", "-c", "echo a > a.txt"] }""");
        await KillMidRunAsync("r-first");

        // The same workstreams (the folder spelled another way): 'uet run' carries on with the unfinished run.
        var again = CliRunner.Uet(_dir.Path, "run", "./workstreams/");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("run r-first did not finish; continuing it", again.Stderr, StringComparison.Ordinal);
        Assert.Equal("r-first completed", Scalar("SELECT group_concat(run_id || ' ' || state, ', ') FROM runs"));

        // Other workstreams: refused, nothing written; --new cancels the unfinished run and starts another.
        await KillMidRunAsync("r-second");
        _dir.Write("workstreams/ws-b.json", """{ "id": "ws-b", "files_scope": ["b.txt"], "command": ["sh", "-c", "echo b > b.txt"] }""");
        Assert.Equal("r-first completed, r-second running", Scalar("SELECT group_concat(run_id || ' ' || state, ', ') FROM runs"));
        var refused = CliRunner.Uet(_dir.Path, "run");
        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Contains("run r-second did not finish, and its workstreams differ from these: 'uet resume r-second'", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal("2", Scalar("SELECT COUNT(*) FROM runs"));

        var fresh = CliRunner.Uet(_dir.Path, "run", "--new", "--run-id", "r-third");
        Assert.True(fresh.ExitCode == 0, fresh.ToString());
        Assert.Equal("cancelled", Scalar("SELECT state FROM runs WHERE run_id = 'r-second'"));
        Assert.Equal("completed", Scalar("SELECT state FROM runs WHERE run_id = 'r-third'"));
        Assert.Equal(0, TestRepository.StatesDisagreeingWithEvents(_dir.Path));
    }

    [Fact]
    public async Task Resume_GoesOnWithTheConfigTheRunStartedWith()
    {
        // Started with a validator that passes; the file then gets one that fails everything: the resumed run still
        // validates as it began, and says so.
        _dir.Write(".uet/config.yaml", "validation:\n  validators:\n    - { name: ok, run: [\"true\"] }\n");
        _dir.Write("workstreams/ws-a.json", """{ "id": "ws-a", "files_scope": ["a.txt"], "command": ["sh", "-c", "echo a > a.txt"] }""");
        await KillMidRunAsync("r-cfg");
        _dir.Write(".uet/config.yaml", "validation:\n  validators:\n    - { name: no, run: [\"false\"] }\n");

        var resumed = CliRunner.Uet(_dir.Path, "resume");

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("run r-cfg goes on with the config it started with", resumed.Stdout, StringComparison.Ordinal);
        Assert.Equal("2", Scalar("SELECT COUNT(*) FROM patches WHERE state = 'committed'"));
        Assert.Contains("name: ok", Scalar("SELECT config FROM runs"), StringComparison.Ordinal);

        // A new run takes the file as it is now.
        var next = CliRunner.Uet(_dir.Path, "run", "--run-id", "r-next");
        Assert.True(next.ExitCode == 1, next.ToString());
        Assert.Contains("validator no failed", next.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resume_KeepsTheCircuitBreakersCount()
    {
        // Two attempts at most; killed while waiting to retry after the first failure, the resumed run makes one more
        // attempt, not two.
        _dir.Write(".uet/config.yaml", "execution:\n  retry_policy: { max_retries: 5, backoff_seconds: 3 }\n");
        var attempts = Path.Combine(_markers.Path, "attempts");
        _dir.Write("workstreams/ws-flaky.json", $$"""{ "id": "ws-flaky", "circuit_breaker": { "max_attempts": 2 }, "command": ["sh", "-c", "echo $UET_ATTEMPT >> {{attempts}}; exit 3"] }""");
        using (var run = CliRunner.StartUetInNewGroup(_dir.Path, "run", "--run-id", "r-cb"))
        {
            var waited = Stopwatch.StartNew();
            while (Scalar("SELECT COUNT(*) FROM events WHERE event_type = 'step.failed'") != "1" && waited.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(50);
            }

            run.Kill();
            run.WaitForExit();
        }

        var resumed = CliRunner.Uet(_dir.Path, "resume");

        Assert.True(resumed.ExitCode == 1, resumed.ToString());
        Assert.Contains("gave up after 2 attempts", Scalar("SELECT group_concat(data) FROM events WHERE event_type = 'task.failed'"), StringComparison.Ordinal);
        Assert.Equal(["1", "2"], File.ReadAllLines(attempts));
        File.Delete(attempts);
    }

    [Fact]
    public async Task Resume_AfterKill9_FinishesWithEachPatchCommittedOnce()
    {
        var started = Path.Combine(_markers.Path, "b-started");
        _dir.Write("workstreams/ws-a.json", """{ "id": "ws-a", "files_scope": ["a.txt"], "command": ["sh", "-c", "echo a > a.txt"] }""");
        _dir.Write("workstreams/ws-b.json", $$"""{ "id": "ws-b", "files_scope": ["b.txt"], "command": ["sh", "-c", "touch {{started}}; sleep 2; echo b > b.txt"] }""");
        _dir.Write("workstreams/ws-c.json", """{ "id": "ws-c", "depends_on": ["ws-a", "ws-b"], "files_scope": ["c.txt"], "command": ["sh", "-c", "cat a.txt b.txt > c.txt"] }""");
        _dir.Write("workstreams/ws-d.json", """{ "id": "ws-d", "depends_on": ["ws-a"], "files_scope": ["d.txt"], "command": ["sh", "-c", "echo d > d.txt"] }""");

        using (var run = CliRunner.StartUetInNewGroup(_dir.Path, "run", "--run-id", "r-k", "--workers", "2"))
        {
            var waited = Stopwatch.StartNew();
            while ((!File.Exists(started) || Scalar("SELECT COUNT(*) FROM patches WHERE state = 'committed'") == "0") && waited.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(50);
            }

            Assert.True(File.Exists(started), "ws-b never started");
            run.Kill(); // SIGKILL: no drain, no cleanup, the lock and the states left as they were
            run.WaitForExit();
        }

        File.Delete(started);
        Assert.Equal("running", Scalar("SELECT state FROM runs"));

        var resumed = CliRunner.Uet(_dir.Path, "resume");

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal("completed", Scalar("SELECT state FROM runs"));
        var files = CliRunner.Run(_dir.Path, "git", ["ls-tree", "-r", "--name-only", "uet/r-k"]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["README.md", "a.txt", "b.txt", "c.txt", "d.txt"], files.Order(StringComparer.Ordinal));
        Assert.Equal("a\nb\n", CliRunner.Run(_dir.Path, "git", ["show", "uet/r-k:c.txt"]).Stdout);
        var trailers = CliRunner.Run(_dir.Path, "git", ["log", "uet/r-k", "--format=%(trailers:key=Uet-Workstream,valueonly)"]).Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal);
        Assert.Equal(["ws-a", "ws-b", "ws-c", "ws-d"], trailers); // each patch committed exactly once
        Assert.Equal("4", Scalar("SELECT COUNT(*) FROM patches WHERE state = 'committed'"));
        Assert.Equal("0", Scalar("SELECT COUNT(*) FROM steps WHERE state = 'running'"));
        Assert.Equal("0", Scalar("SELECT COUNT(*) FROM workers WHERE state <> 'TERMINATED'"));
        Assert.Equal(0, TestRepository.StatesDisagreeingWithEvents(_dir.Path));

        Assert.Single(CliRunner.Run(_dir.Path, "git", ["worktree", "list"]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Resume_KilledRightAfterAPatchWasCommitted_TaskNotRunAgain()
    {
        // Appending tools: running one twice would show in the file.
        _dir.Write("workstreams/ws-a.json", """{ "id": "ws-a", "files_scope": ["a.txt"], "command": ["sh", "-c", "echo a >> a.txt"] }""");
        _dir.Write("workstreams/ws-b.json", """{ "id": "ws-b", "depends_on": ["ws-a"], "files_scope": ["b.txt"], "command": ["sh", "-c", "echo b >> b.txt"] }""");

        var crashed = CliRunner.UetWithEnvironment(_dir.Path, new Dictionary<string, string> { ["UET_FAULT"] = "after-patch-committed" }, "run", "--run-id", "r-f");
        Assert.Contains("UET_FAULT: crashing at after-patch-committed", crashed.Stderr, StringComparison.Ordinal);
        Assert.Equal("running", Scalar("SELECT state FROM tasks WHERE task_id = 'r-f:ws-a'"));
        Assert.Equal("committed", Scalar("SELECT state FROM patches WHERE task_id = 'r-f:ws-a'"));

        var resumed = CliRunner.Uet(_dir.Path, "resume", "--merge-into", "main");

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("merged: main fast-forwarded", resumed.Stdout, StringComparison.Ordinal);
        Assert.Equal(CliRunner.Run(_dir.Path, "git", ["rev-parse", "uet/r-f"]).Stdout, CliRunner.Run(_dir.Path, "git", ["rev-parse", "main"]).Stdout);
        Assert.Equal("a\n", CliRunner.Run(_dir.Path, "git", ["show", "uet/r-f:a.txt"]).Stdout);
        Assert.Equal("b\n", CliRunner.Run(_dir.Path, "git", ["show", "uet/r-f:b.txt"]).Stdout);
        Assert.Equal("1", Scalar("SELECT COUNT(*) FROM steps WHERE task_id = 'r-f:ws-a'"));
        Assert.Equal("completed", Scalar("SELECT state FROM steps WHERE task_id = 'r-f:ws-a'"));
        Assert.Equal("completed", Scalar("SELECT state FROM tasks WHERE task_id = 'r-f:ws-a'"));
        var commits = CliRunner.Run(_dir.Path, "git", ["log", "uet/r-f", "--format=%(trailers:key=Uet-Workstream,valueonly)"]).Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(commits, c => c == "ws-a");
    }

    [Fact]
    public void Resume_NothingToResume_ClearMessage()
    {
        var result = CliRunner.Uet(_dir.Path, "resume");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("no unfinished run", result.Stderr, StringComparison.Ordinal);
    }
}

/// <summary>
/// The demo (37 workstreams, 8 waves, a validator on every patch, a rollback, a quarantine, a blocked workstream) as a
/// child process, killed with SIGKILL at 20 seeded random moments and resumed each time: the same tree and the same
/// committed workstreams as a run left alone, every patch committed exactly once, and an event history with no gap.
/// </summary>
public sealed class RepeatedKillTests : IDisposable
{
    private const int Kills = 20;
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private static (string Tree, string[] Committed) Result(string repo)
    {
        var tree = CliRunner.Run(repo, "git", ["rev-parse", "uet/r-demo^{tree}"]).Stdout.Trim();
        var committed = CliRunner.Run(repo, "git", ["log", "uet/r-demo", "--format=%(trailers:key=Uet-Workstream,valueonly)"]).Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray();
        return (tree, committed);
    }

    /// <summary>Whether the demo's run is in its database yet (read-only: never creates the file under uet's feet).</summary>
    private static bool RunRecorded(string folder)
    {
        var path = Path.Combine(folder, ".state", "uet.db");
        if (!File.Exists(path))
        {
            return false;
        }

        try
        {
            using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM runs";
            return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
        }
        catch (SqliteException)
        {
            return false; // not migrated yet
        }
    }

    [Fact]
    public async Task DemoKilledAtTwentyRandomMomentsAndResumed_SameResultAsAnUninterruptedRun()
    {
        var calm = Path.Combine(_dir.Path, "calm");
        var killed = Path.Combine(_dir.Path, "killed");
        var reference = CliRunner.Uet(_dir.Path, "demo", "--dir", calm);
        Assert.True(reference.ExitCode == 0, reference.ToString());
        var expected = Result(calm);
        Assert.Equal(34, expected.Committed.Length);

        var random = new Random(20261129);
        var kills = 0;
        string[] args = ["demo", "--dir", killed];
        var workdir = _dir.Path;
        for (var round = 0; round <= Kills; round++)
        {
            using var process = CliRunner.StartUetInNewGroup(workdir, args);
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            if (round == 0)
            {
                // The first round copies the demo and makes its repository first: the clock starts once the run exists.
                var waited = Stopwatch.StartNew();
                while (!RunRecorded(killed) && !process.HasExited && waited.Elapsed < TimeSpan.FromMinutes(1))
                {
                    await Task.Delay(20);
                }
            }

            var delay = TimeSpan.FromMilliseconds(random.Next(round == 0 ? 0 : 250, 650));
            if (round < Kills && !process.WaitForExit(delay))
            {
                process.Kill();
                kills++;
            }

            await process.WaitForExitAsync();
            var (stdout, stderr) = (await output, await errors);
            Assert.True(process.ExitCode is 0 or 1 or 137 or -1, $"uet {string.Join(' ', args)} failed by itself (exit {process.ExitCode}):\n{stdout}\n{stderr}");
            if (TestRepository.Scalar(killed, "SELECT COUNT(*) FROM runs WHERE state = 'running'") == "0")
            {
                break;
            }

            workdir = killed;
            args = ["resume", "r-demo"];
        }

        Assert.True(kills == Kills, $"{kills} of {Kills} kills landed before the run ended");
        Assert.Equal("failed", TestRepository.Scalar(killed, "SELECT state FROM runs")); // the demo's rollback fails the run
        var actual = Result(killed);
        Assert.Equal(expected.Tree, actual.Tree);
        Assert.Equal(expected.Committed, actual.Committed); // the same workstreams, each committed exactly once
        Assert.Equal("34", TestRepository.Scalar(killed, "SELECT COUNT(*) FROM patches WHERE state = 'committed'"));
        Assert.Equal("0", TestRepository.Scalar(killed, "SELECT COUNT(*) FROM steps WHERE state = 'running'"));
        Assert.Equal(0, TestRepository.StatesDisagreeingWithEvents(killed));
        // Every entity's events chain: each starts where the one before it ended; ids and times never go back.
        Assert.Equal("0", TestRepository.Scalar(killed, """
            SELECT COUNT(*) FROM (SELECT from_state, LAG(to_state) OVER (PARTITION BY entity, entity_id ORDER BY event_id) AS previous,
                                         ROW_NUMBER() OVER (PARTITION BY entity, entity_id ORDER BY event_id) AS n FROM events)
            WHERE n > 1 AND from_state IS NOT previous
            """));
        Assert.Equal("0", TestRepository.Scalar(killed, "SELECT COUNT(*) FROM (SELECT at, LAG(at) OVER (ORDER BY event_id) AS previous FROM events) WHERE at < previous"));
    }
}
