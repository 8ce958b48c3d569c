using System.Text.Json;
using Microsoft.Data.Sqlite;
using Uet.Tests.Support;
using Xunit;

namespace Uet.Tests.Execution;

/// <summary>
/// `uet run` as a process on a real repository: 22 workstreams (chains, a diamond, a conflict group, a run-alone
/// task, one failing then passing, one out of scope, one empty, one timing out, a tests-tool one) on 3 workers.
/// </summary>
public sealed class RunEndToEndTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly string _repo;
    private readonly string _workstreams;
    private readonly string _scratch;

    public RunEndToEndTests()
    {
        _repo = Path.Combine(_dir.Path, "repo");
        _workstreams = Path.Combine(_dir.Path, "workstreams");
        _scratch = Path.Combine(_dir.Path, "scratch");
        Directory.CreateDirectory(_repo);
        Directory.CreateDirectory(_workstreams);
        Directory.CreateDirectory(_scratch);
        TestRepository.Create(_repo, init: false);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private void Ws(string id, string json) => File.WriteAllText(Path.Combine(_workstreams, $"ws-{id}.json"), json);

    private static string Sh(string script) => JsonSerializer.Serialize(new[] { "sh", "-c", script });

    private void WriteWorkstreams()
    {
        // A chain: each step appends its name to chain.txt, so the final content proves the order.
        Ws("chain-1", $$"""{ "id": "ws-chain-1", "files_scope": ["chain.txt"], "command": {{Sh("echo one >> chain.txt")}}, "estimate": "3m" }""");
        Ws("chain-2", $$"""{ "id": "ws-chain-2", "depends_on": ["ws-chain-1"], "files_scope": ["chain.txt"], "command": {{Sh("echo two >> chain.txt")}} }""");
        Ws("chain-3", $$"""{ "id": "ws-chain-3", "depends_on": ["ws-chain-2"], "files_scope": ["chain.txt"], "command": {{Sh("echo three >> chain.txt")}} }""");
        // A diamond: the bottom sees both sides.
        Ws("top", $$"""{ "id": "ws-top", "files_scope": ["diamond/top.txt"], "command": {{Sh("mkdir -p diamond && echo top > diamond/top.txt")}} }""");
        Ws("left", $$"""{ "id": "ws-left", "depends_on": ["ws-top"], "files_scope": ["diamond/left.txt"], "command": {{Sh("cat diamond/top.txt > diamond/left.txt")}} }""");
        Ws("right", $$"""{ "id": "ws-right", "depends_on": ["ws-top"], "files_scope": ["diamond/right.txt"], "command": {{Sh("cat diamond/top.txt > diamond/right.txt")}} }""");
        Ws("bottom", $$"""{ "id": "ws-bottom", "dependencies": { "depends_on": ["ws-left", "ws-right"] }, "files_scope": ["diamond/"], "command": {{Sh("cat diamond/left.txt diamond/right.txt > diamond/bottom.txt")}} }""");
        // A conflict group: never two at once (each takes a lock folder outside the repository, and with one attempt
        // only, a collision would fail the task instead of being retried away). Each also marks itself as running.
        var lockFile = Path.Combine(_scratch, "db.lock");
        var running = Path.Combine(_scratch, "running");
        Directory.CreateDirectory(running);
        for (var i = 1; i <= 3; i++)
        {
            Ws($"db-{i}", $$"""{ "id": "ws-db-{{i}}", "conflict_group": "db", "circuit_breaker": { "max_attempts": 1 }, "files_scope": ["db/"], "command": {{Sh($"mkdir {lockFile} || exit 9; touch {running}/db-{i}; mkdir -p db && echo {i} > db/m{i}.sql; sleep 0.3; rm {running}/db-{i}; rmdir {lockFile}")}} }""");
        }

        // Runs alone: fails (one attempt only) if any marked task runs when it starts or while it runs.
        Ws("solo", $$"""{ "id": "ws-solo", "parallel_ok": false, "circuit_breaker": { "max_attempts": 1 }, "files_scope": ["solo.txt"], "command": {{Sh($"[ -z \"$(ls {running})\" ] || exit 7; touch {running}/solo; sleep 0.3; rm {running}/solo; [ -z \"$(ls {running})\" ] || exit 7; echo solo > solo.txt")}} }""");
        // Fails on its first attempt, passes on the second (the marker lives outside the worktree).
        var marker = Path.Combine(_scratch, "flaky.marker");
        Ws("flaky", $$"""{ "id": "ws-flaky", "files_scope": ["flaky.txt"], "command": {{Sh($"if [ -f {marker} ]; then echo ok > flaky.txt; else touch {marker}; echo first try fails; exit 3; fi")}} }""");
        // Writes outside its scope: quarantined, and its dependent blocked.
        Ws("rogue", $$"""{ "id": "ws-rogue", "files_scope": ["docs/"], "command": {{Sh("mkdir -p docs && echo ok > docs/ok.md && echo bad > rogue.txt")}} }""");
        Ws("after-rogue", $$"""{ "id": "ws-after-rogue", "depends_on": ["ws-rogue"], "files_scope": ["after.txt"], "command": {{Sh("echo x > after.txt")}} }""");
        // Changes nothing: completes, patch dropped.
        Ws("empty", """{ "id": "ws-empty", "command": ["true"] }""");
        // Times out every time: fails after its attempts, child processes killed; its dependent blocked.
        Ws("slow", $$"""{ "id": "ws-slow", "timeout": "1s", "circuit_breaker": { "max_attempts": 1 }, "files_scope": ["slow.txt"], "command": {{Sh("sleep 30")}} }""");
        Ws("after-slow", """{ "id": "ws-after-slow", "depends_on": ["ws-slow"], "command": ["true"] }""");
        // The tests tool: acceptance commands are the tool.
        Ws("tests", """{ "id": "ws-tests", "tool": "tests", "acceptance_tests": ["described only", { "run": ["test", "-f", "README.md"] }] }""");
        // An acceptance gate that passes after the tool.
        Ws("gated", $$"""{ "id": "ws-gated", "files_scope": ["gated.txt"], "command": {{Sh("echo gated > gated.txt")}}, "acceptance_tests": [{ "run": ["grep", "-q", "gated", "gated.txt"] }] }""");
        // Independent work to fill the pool.
        for (var i = 1; i <= 4; i++)
        {
            Ws($"leaf-{i}", $$"""{ "id": "ws-leaf-{{i}}", "files_scope": ["leaves/"], "command": {{Sh($"touch {Path.Combine(_scratch, "running")}/leaf-{i}; mkdir -p leaves && echo {i} > leaves/{i}.txt; sleep 0.2; rm {Path.Combine(_scratch, "running")}/leaf-{i}")}} }""");
        }
    }

    private string Scalar(string sql) => TestRepository.Scalar(_repo, sql);

    [Fact]
    public void Run_TwentyTwoWorkstreamsOnThreeWorkers_ResultsStatesAndUserBranch()
    {
        WriteWorkstreams();
        Assert.Equal(0, CliRunner.Uet(_repo, "init").ExitCode);
        File.WriteAllText(Path.Combine(_repo, ".uet", "config.yaml"), "execution:\n  retry_policy:\n    max_retries: 2\n    backoff_seconds: 0.05\n");
        var headBefore = CliRunner.Run(_repo, "git", ["rev-parse", "HEAD"]).Stdout.Trim();

        var result = CliRunner.Uet(_repo, "run", _workstreams, "--workers", "3", "--run-id", "r-e2e", "--json");

        Assert.True(result.ExitCode == 1, result.ToString()); // some tasks fail by design
        using var summary = JsonDocument.Parse(result.Stdout);
        Assert.Equal("failed", summary.RootElement.GetProperty("state").GetString());

        // The integration branch holds exactly the expected files.
        var files = CliRunner.Run(_repo, "git", ["ls-tree", "-r", "--name-only", "uet/r-e2e"]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
            new[]
            {
                "README.md", "chain.txt", "db/m1.sql", "db/m2.sql", "db/m3.sql", "diamond/bottom.txt", "diamond/left.txt",
                "diamond/right.txt", "diamond/top.txt", "flaky.txt", "gated.txt", "leaves/1.txt", "leaves/2.txt", "leaves/3.txt",
                "leaves/4.txt", "solo.txt",
            },
            files.Order(StringComparer.Ordinal));
        Assert.Equal("one\ntwo\nthree\n", CliRunner.Run(_repo, "git", ["show", "uet/r-e2e:chain.txt"]).Stdout);
        Assert.Equal("top\ntop\n", CliRunner.Run(_repo, "git", ["show", "uet/r-e2e:diamond/bottom.txt"]).Stdout);

        // The user's branch, HEAD and working tree are untouched.
        Assert.Equal(headBefore, CliRunner.Run(_repo, "git", ["rev-parse", "main"]).Stdout.Trim());
        Assert.Equal("main", CliRunner.Run(_repo, "git", ["symbolic-ref", "--short", "HEAD"]).Stdout.Trim());
        Assert.Equal("?? .uet/config.yaml", CliRunner.Run(_repo, "git", ["status", "--porcelain", "--untracked-files=all"]).Stdout.Trim());
        Assert.Single(CliRunner.Run(_repo, "git", ["worktree", "list"]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        // States as DESIGN.md says.
        string TaskState(string ws) => Scalar($"SELECT state FROM tasks WHERE task_id = 'r-e2e:ws-{ws}'");
        foreach (var ws in new[] { "chain-1", "chain-2", "chain-3", "top", "left", "right", "bottom", "db-1", "db-2", "db-3", "solo", "flaky", "empty", "tests", "gated", "leaf-1" })
        {
            Assert.Equal("completed", TaskState(ws));
        }

        Assert.Equal("failed", TaskState("rogue"));
        Assert.Equal("failed", TaskState("slow"));
        Assert.Equal("blocked", TaskState("after-rogue"));
        Assert.Equal("blocked", TaskState("after-slow"));
        Assert.Equal("quarantined", Scalar("SELECT state FROM patches WHERE task_id = 'r-e2e:ws-rogue'"));
        Assert.Equal("dropped", Scalar("SELECT state FROM patches WHERE task_id = 'r-e2e:ws-empty'"));
        Assert.Equal("17", Scalar("SELECT COUNT(*) FROM patches WHERE state = 'committed'"));
        Assert.Equal("2", Scalar("SELECT attempts FROM tasks WHERE task_id = 'r-e2e:ws-flaky'"));
        Assert.Equal(
            "task.created,task.ready,task.running,task.ready,task.running,task.completed",
            Scalar("SELECT group_concat(event_type, ',') FROM (SELECT event_type FROM events WHERE entity = 'task' AND entity_id = 'r-e2e:ws-flaky' ORDER BY event_id)"));
        Assert.Contains("timed out", Scalar("SELECT error FROM steps WHERE task_id = 'r-e2e:ws-slow'") + Scalar("SELECT data FROM events WHERE entity = 'step' AND entity_id = 'r-e2e:ws-slow:1' AND to_state = 'failed'"), StringComparison.Ordinal);
        Assert.Equal("failed", Scalar("SELECT state FROM runs WHERE run_id = 'r-e2e'"));
        Assert.Equal("3", Scalar("SELECT COUNT(*) FROM workers WHERE run_id = 'r-e2e' AND state = 'TERMINATED'"));
        Assert.Equal(string.Empty, Scalar("SELECT run_id FROM run_lock"));
        // Every entity's state is the to_state of its last event: state and events never disagree.
        Assert.Equal(0, TestRepository.StatesDisagreeingWithEvents(_repo));
        // A completion and the dependents it makes ready are one transaction: with one writer, their events are
        // consecutive (task completed, its worker idle, the dependent ready).
        Assert.Equal(
            "task.completed r-e2e:ws-chain-1,worker.idle,task.ready r-e2e:ws-chain-2",
            Scalar("""
                SELECT group_concat(event_type || CASE WHEN entity = 'task' THEN ' ' || entity_id ELSE '' END, ',') FROM (
                  SELECT event_type, entity, entity_id FROM events WHERE event_id BETWEEN
                    (SELECT event_id FROM events WHERE entity_id = 'r-e2e:ws-chain-1' AND event_type = 'task.completed')
                    AND (SELECT event_id FROM events WHERE entity_id = 'r-e2e:ws-chain-2' AND event_type = 'task.ready')
                  ORDER BY event_id)
                """));

        // The conflict group never overlapped (each member would have exited 9 on a held lock), and the logs exist.
        Assert.True(File.Exists(Path.Combine(_repo, "logs", "uet", "r-e2e", "ws-flaky", "1.log")));
        Assert.Contains("first try fails", File.ReadAllText(Path.Combine(_repo, "logs", "uet", "r-e2e", "ws-flaky", "1.log")), StringComparison.Ordinal);
    }
}
