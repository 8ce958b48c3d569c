using Microsoft.Data.Sqlite;
using Uet.Tests.Support;
using Xunit;

namespace Uet.Tests.Execution;

public sealed class RunCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    // Marker files the tools write: outside the repository (its tree must stay as the run leaves it), deleted with the test.
    private readonly TempDirectory _markers = new();

    public RunCliTests()
    {
        TestRepository.Create(_dir.Path, init: true);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
        _markers.Dispose();
    }

    private string Scalar(string sql) => TestRepository.Scalar(_dir.Path, sql);

    [Fact]
    public void Run_ToolThatCannotRun_RefusedBeforeAnythingIsWritten()
    {
        _dir.Write("workstreams/ws-ai.json", """{ "id": "ws-ai", "tool": "aider" }""");
        _dir.Write("workstreams/ws-cursor.json", """{ "id": "ws-cursor", "tool": "cursor" }""");
        _dir.Write(".uet/config.yaml", "execution:\n  tool_config:\n    aider:\n      program: uet-test-no-such-aider\n");

        var result = CliRunner.Uet(_dir.Path, "run");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("ws-ai uses aider, but 'uet-test-no-such-aider' is not installed", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("ws-cursor: tool 'cursor' cannot run", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("0", Scalar("SELECT COUNT(*) FROM runs"));
        Assert.Empty(CliRunner.Run(_dir.Path, "git", ["branch", "--list", "uet/*"]).Stdout.Trim());
    }

    [Fact]
    public void Run_SecretPrintedByAFailingTool_NeverInLogsOrEvents()
    {
        const string Secret = "ghp_SuperSecretToken123456";
        _dir.Write("workstreams/ws-leak.json", """{ "id": "ws-leak", "circuit_breaker": { "max_attempts": 1 }, "command": ["sh", "-c", "echo token=$GITHUB_TOKEN; exit 1"] }""");

        var result = CliRunner.UetWithEnvironment(_dir.Path, new Dictionary<string, string> { ["GITHUB_TOKEN"] = Secret }, "run", "--run-id", "r-s");

        Assert.True(result.ExitCode == 1, result.ToString());
        var log = File.ReadAllText(Path.Combine(_dir.Path, "logs", "uet", "r-s", "ws-leak", "1.log"));
        Assert.Contains("token=***", log, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, log, StringComparison.Ordinal);
        Assert.Equal("0", Scalar($"SELECT COUNT(*) FROM events WHERE data LIKE '%{Secret}%'"));
        Assert.NotEqual("0", Scalar("SELECT COUNT(*) FROM events WHERE data LIKE '%token=***%'"));
        Assert.DoesNotContain(Secret, result.Stdout + result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ToolCommitsInItsWorktree_PatchHasTheCommitAndTheUncommittedChange()
    {
        _dir.Write("workstreams/ws-commit.json", """
            { "id": "ws-commit", "files_scope": ["a.txt", "b.txt"],
              "command": ["sh", "-c", "echo a > a.txt && git add a.txt && git -c user.name=x -c user.email=x@x commit -qm tool && echo b > b.txt"] }
            """);

        var result = CliRunner.Uet(_dir.Path, "run", "--run-id", "r-c");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("a\n", CliRunner.Run(_dir.Path, "git", ["show", "uet/r-c:a.txt"]).Stdout);
        Assert.Equal("b\n", CliRunner.Run(_dir.Path, "git", ["show", "uet/r-c:b.txt"]).Stdout);
        Assert.Equal("[\"A a.txt\",\"A b.txt\"]", Scalar("SELECT files FROM patches"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Run_ValidatorRejectsOnePatch_RolledBackDependentsBlockedOthersCommitted(int batchSize)
    {
        // The project's "tests": no file may contain BAD. Non-blocking lint only warns. Batched or not, the same end.
        _dir.Write(".uet/config.yaml", $$"""
            execution:
              retry_policy: { max_retries: 0, backoff_seconds: 0 }
            integration:
              batch_size: {{batchSize}}
            validation:
              validators:
                - name: tests
                  run: [sh, -c, "! grep -rq BAD --include=*.txt ."]
                  gate: GATE_UNIT
                - name: lint
                  run: [sh, -c, "exit 1"]
                  gate: GATE_LINT
            """);
        _dir.Write("workstreams/ws-good.json", """{ "id": "ws-good", "files_scope": ["good.txt"], "command": ["sh", "-c", "echo fine > good.txt"], "test_gates": [{ "type": "GATE_UNIT" }, { "type": "GATE_LINT", "blocking": false }] }""");
        _dir.Write("workstreams/ws-bad.json", """{ "id": "ws-bad", "files_scope": ["bad.txt"], "command": ["sh", "-c", "echo BAD > bad.txt"], "test_gates": [{ "type": "GATE_UNIT" }] }""");
        _dir.Write("workstreams/ws-after-bad.json", """{ "id": "ws-after-bad", "depends_on": ["ws-bad"], "files_scope": ["x.txt"], "command": ["sh", "-c", "echo x > x.txt"] }""");
        _dir.Write("workstreams/ws-after-good.json", """{ "id": "ws-after-good", "depends_on": ["ws-good"], "files_scope": ["y.txt"], "command": ["sh", "-c", "echo y > y.txt"], "test_gates": [{ "type": "GATE_UNIT" }] }""");

        var result = CliRunner.Uet(_dir.Path, "run", "--run-id", "r-v");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("rolled_back ws-bad  validator tests failed", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("non-blocking validator lint failed", result.Stdout, StringComparison.Ordinal);
        Assert.Equal("rolled_back", Scalar("SELECT state FROM patches WHERE task_id = 'r-v:ws-bad'"));
        Assert.Equal("failed", Scalar("SELECT state FROM tasks WHERE task_id = 'r-v:ws-bad'"));
        Assert.Equal("blocked", Scalar("SELECT state FROM tasks WHERE task_id = 'r-v:ws-after-bad'"));
        Assert.Equal("2", Scalar("SELECT COUNT(*) FROM patches WHERE state = 'committed'"));
        var files = CliRunner.Run(_dir.Path, "git", ["ls-tree", "-r", "--name-only", "uet/r-v"]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["README.md", "good.txt", "y.txt"], files.Order(StringComparer.Ordinal));
        Assert.Equal(
            "patch.created,patch.validated,patch.queued,patch.applied,patch.rolled_back",
            Scalar("SELECT group_concat(event_type, ',') FROM (SELECT event_type FROM events WHERE entity = 'patch' AND entity_id = 'r-v:ws-bad:1' ORDER BY event_id)"));
        // The integration branch passes the project's tests.
        var check = CliRunner.Run(_dir.Path, "sh", ["-c", "mkdir -p \"$0\" && git archive uet/r-v | tar -x -C \"$0\" && cd \"$0\" && ! grep -rq BAD --include=*.txt .", Path.Combine(_dir.Path, ".check")]);
        Assert.True(check.ExitCode == 0, check.ToString());
    }

    [Fact]
    public async Task Run_UserCommitsBranchesAndTagsDuringTheRun_LeftAlone()
    {
        var marker = Path.Combine(_markers.Path, "started");
        _dir.Write("workstreams/ws-slow.json", $$"""{ "id": "ws-slow", "command": ["sh", "-c", "touch {{marker}}; sleep 3"] }""");
        var run = Task.Run(() => CliRunner.Uet(_dir.Path, "run", "--run-id", "r-u"));
        while (!File.Exists(marker))
        {
            await Task.Delay(50);
        }

        File.Delete(marker);
        _dir.Write("user.txt", "mine\n");
        CliRunner.Git(_dir.Path, "add", "user.txt");
        CliRunner.Git(_dir.Path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "user work");
        var mine = CliRunner.Run(_dir.Path, "git", ["rev-parse", "main"]).Stdout.Trim();
        CliRunner.Git(_dir.Path, "branch", "feature");
        CliRunner.Git(_dir.Path, "tag", "v1");

        var result = await run;

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain("undone", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(mine, CliRunner.Run(_dir.Path, "git", ["rev-parse", "main"]).Stdout.Trim());
        Assert.Equal(mine, CliRunner.Run(_dir.Path, "git", ["rev-parse", "feature"]).Stdout.Trim());
        Assert.Equal("v1", CliRunner.Run(_dir.Path, "git", ["tag"]).Stdout.Trim());
    }

    [Fact]
    public void Run_ValidatorThatCommits_RolledBackToTheCommitBeforeThePatch()
    {
        _dir.Write(".uet/config.yaml", """
            execution:
              retry_policy: { max_retries: 0, backoff_seconds: 0 }
            validation:
              validators:
                - name: sneaky
                  run: [sh, -c, "echo v > v.txt && git add v.txt && git -c user.name=v -c user.email=v@v commit -qm validator"]
            """);
        _dir.Write("workstreams/ws-a.json", """{ "id": "ws-a", "files_scope": ["a.txt"], "command": ["sh", "-c", "echo a > a.txt"] }""");

        var result = CliRunner.Uet(_dir.Path, "run", "--run-id", "r-sn");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("rolled_back", Scalar("SELECT state FROM patches"));
        Assert.Equal(CliRunner.Run(_dir.Path, "git", ["rev-parse", "main"]).Stdout.Trim(), CliRunner.Run(_dir.Path, "git", ["rev-parse", "uet/r-sn"]).Stdout.Trim());
    }

    [Fact]
    public void Run_TwoWorkstreamsMakeTheSameChange_NothingStuckHalfWay()
    {
        // Both start from the same head at the same time and make the same edit: the second finds it already there.
        _dir.Write("workstreams/ws-c.json", """{ "id": "ws-c", "files_scope": ["same.txt", "README.md"], "command": ["sh", "-c", "sleep 0.5; echo same > same.txt; echo more >> README.md"] }""");
        _dir.Write("workstreams/ws-e.json", """{ "id": "ws-e", "files_scope": ["same.txt", "README.md"], "command": ["sh", "-c", "sleep 0.5; echo same > same.txt; echo more >> README.md"] }""");

        var result = CliRunner.Uet(_dir.Path, "run", "--run-id", "r-same", "--workers", "2");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("2", Scalar("SELECT COUNT(*) FROM tasks WHERE state = 'completed'"));
        Assert.Equal("0", Scalar("SELECT COUNT(*) FROM patches WHERE state IN ('verified', 'applied', 'queued')")); // nothing stuck half-way
        Assert.Equal("same\n", CliRunner.Run(_dir.Path, "git", ["show", "uet/r-same:same.txt"]).Stdout);
    }

    [Fact]
    public void Run_RequiredGateWithoutValidator_RefusedBeforeStarting()
    {
        _dir.Write("workstreams/ws-g.json", """{ "id": "ws-g", "command": ["true"], "test_gates": [{ "type": "GATE_INTEGRATION", "required": true }] }""");

        var result = CliRunner.Uet(_dir.Path, "run");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("requires gate GATE_INTEGRATION", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("0", Scalar("SELECT COUNT(*) FROM runs"));
    }

    [Fact]
    public async Task Run_WorkersDrainedMidRun_NoCrashTasksStayResumable()
    {
        for (var i = 1; i <= 3; i++)
        {
            _dir.Write($"workstreams/ws-{i}.json", $$"""{ "id": "ws-{{i}}", "command": ["sleep", "2"] }""");
        }

        var run = Task.Run(() => CliRunner.Uet(_dir.Path, "run", "--run-id", "r-dr", "--workers", "2"));
        while (Scalar("SELECT COUNT(*) FROM workers WHERE state = 'BUSY'") != "2")
        {
            await Task.Delay(100);
        }

        Assert.Equal(0, CliRunner.Uet(_dir.Path, "workers", "drain").ExitCode);
        var result = await run;

        Assert.DoesNotContain("internal error", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("2", Scalar("SELECT COUNT(*) FROM tasks WHERE state = 'completed'"));
        Assert.Equal("ready", Scalar("SELECT state FROM tasks WHERE state <> 'completed'"));
        Assert.Equal("0", Scalar("SELECT COUNT(*) FROM workers WHERE state <> 'TERMINATED'"));
        Assert.Equal("0", Scalar("SELECT COUNT(*) FROM steps WHERE state = 'running'"));
    }

    [Fact]
    public void Run_ToolCreatesBranchesMovesMainAndTags_AllUndone()
    {
        var main = CliRunner.Run(_dir.Path, "git", ["rev-parse", "main"]).Stdout.Trim();
        _dir.Write("workstreams/ws-refs.json", """
            { "id": "ws-refs",
              "command": ["sh", "-c", "git checkout -q -b evil && git -c user.name=x -c user.email=x@x commit -q --allow-empty -m e && git update-ref refs/heads/main HEAD && git tag t1"] }
            """);

        var result = CliRunner.Uet(_dir.Path, "run", "--run-id", "r-refs");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("the tool changed the repository's refs; undone", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(main, CliRunner.Run(_dir.Path, "git", ["rev-parse", "main"]).Stdout.Trim());
        Assert.Equal("main\nuet/r-refs", CliRunner.Run(_dir.Path, "git", ["for-each-ref", "--format=%(refname:short)", "refs/heads"]).Stdout.Trim());
        Assert.Empty(CliRunner.Run(_dir.Path, "git", ["tag"]).Stdout.Trim());
    }

    [Fact]
    public void Run_IsolationNone_ToolSeesTheFilesAndNothingIsCaptured()
    {
        _dir.Write(".uet/config.yaml", "isolation:\n  strategy: none\n");
        _dir.Write("workstreams/ws-n.json", """{ "id": "ws-n", "command": ["sh", "-c", "test -f README.md && test ! -e .git && echo changed > README.md"] }""");

        var result = CliRunner.Uet(_dir.Path, "run", "--run-id", "r-n");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("base\n", CliRunner.Run(_dir.Path, "git", ["show", "uet/r-n:README.md"]).Stdout);
        Assert.Equal("0", Scalar("SELECT COUNT(*) FROM patches"));
        Assert.Equal("completed", Scalar("SELECT state FROM tasks"));
    }

    [Fact]
    public void Run_IsolationNone_OneWorkerReusesItsFolderPutBack_SilentCommandsLeaveNoFiles()
    {
        _dir.Write(".uet/config.yaml", "isolation:\n  strategy: none\n");
        _dir.Write("workstreams/ws-1.json", """{ "id": "ws-1", "command": ["sh", "-c", "echo changed > README.md && mkdir -p out && touch out/junk"] }""");
        _dir.Write("workstreams/ws-2.json", """{ "id": "ws-2", "depends_on": ["ws-1"], "command": ["sh", "-c", "test \"$(cat README.md)\" = base && test ! -e out && test -z \"$UET_PROMPT_FILE\""] }""");
        _dir.Write("workstreams/ws-3.json", """{ "id": "ws-3", "depends_on": ["ws-2"], "tasks": ["say what to do"], "command": ["sh", "-c", "cat \"$UET_PROMPT_FILE\""] }""");

        var result = CliRunner.Uet(_dir.Path, "run", "--run-id", "r-p", "--workers", "1");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("3", Scalar("SELECT COUNT(*) FROM tasks WHERE state = 'completed'"));
        var logs = Path.Combine(_dir.Path, "logs", "uet", "r-p");
        Assert.False(Directory.Exists(Path.Combine(logs, "ws-1")), "ws-1 printed nothing and succeeded: no log folder");
        Assert.False(Directory.Exists(Path.Combine(logs, "ws-2")));
        Assert.Equal(["1.log", "1.prompt.md"], Directory.GetFiles(Path.Combine(logs, "ws-3")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Contains("- say what to do", File.ReadAllText(Path.Combine(logs, "ws-3", "1.log")), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, ".worktrees", "r-p")), "the scratch folder goes with the run");
    }

    [Fact]
    public void Run_DeletesRenamesAndBinaryFiles_CarriedToTheIntegrationBranch()
    {
        _dir.Write("old.txt", "move me\n");
        _dir.Write("gone.txt", "delete me\n");
        CliRunner.Git(_dir.Path, "add", "old.txt", "gone.txt");
        CliRunner.Git(_dir.Path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "more");
        _dir.Write("workstreams/ws-shapes.json", """
            { "id": "ws-shapes", "files_scope": ["old.txt", "new.txt", "gone.txt", "bin.dat"],
              "command": ["sh", "-c", "git mv old.txt new.txt && rm gone.txt && printf '\\000\\001\\002' > bin.dat"] }
            """);

        var result = CliRunner.Uet(_dir.Path, "run", "--run-id", "r-x");

        Assert.True(result.ExitCode == 0, result.ToString());
        var files = CliRunner.Run(_dir.Path, "git", ["ls-tree", "-r", "--name-only", "uet/r-x"]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["README.md", "bin.dat", "new.txt"], files.Order(StringComparer.Ordinal));
        Assert.Equal("3", CliRunner.Run(_dir.Path, "git", ["cat-file", "-s", "uet/r-x:bin.dat"]).Stdout.Trim());
        Assert.Contains("R old.txt -> new.txt", Scalar("SELECT files FROM patches"), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ToolChecksOutTheIntegrationBranchAndCommits_BranchPutBackAndRejectedChangeNotOnIt()
    {
        // The integration branch is checked out nowhere (the merge queue works detached), so a tool could take it in
        // its worktree and commit: the queue alone moves it, and puts it back.
        _dir.Write(".uet/config.yaml", """
            execution:
              retry_policy: { max_retries: 0, backoff_seconds: 0 }
            validation:
              validators:
                - name: tests
                  run: [sh, -c, "! grep -rq BAD --include=*.txt ."]
            """);
        _dir.Write("workstreams/ws-a.json", """{ "id": "ws-a", "files_scope": ["a.txt"], "command": ["sh", "-c", "git checkout -q uet/r-t && echo BAD > a.txt && git add a.txt && git -c user.name=x -c user.email=x@x commit -qm tool"] }""");
        _dir.Write("workstreams/ws-b.json", """{ "id": "ws-b", "depends_on": ["ws-a"], "files_scope": ["b.txt"], "command": ["sh", "-c", "echo b > b.txt"] }""");

        var result = CliRunner.Uet(_dir.Path, "run", "--run-id", "r-t");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("rolled_back", Scalar("SELECT state FROM patches WHERE task_id = 'r-t:ws-a'"));
        Assert.Contains("outside the merge queue; put back", result.Stdout, StringComparison.Ordinal);
        var files = CliRunner.Run(_dir.Path, "git", ["ls-tree", "-r", "--name-only", "uet/r-t"]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["README.md"], files);
        Assert.Equal(CliRunner.GitOutput(_dir.Path, "rev-parse", "main"), CliRunner.GitOutput(_dir.Path, "rev-parse", "uet/r-t"));
    }

    [Fact]
    public void Run_ValidatorChecksOutABranch_PatchRejectedAndThatBranchNeverMoves()
    {
        CliRunner.Git(_dir.Path, "branch", "develop");
        var develop = CliRunner.GitOutput(_dir.Path, "rev-parse", "develop");
        _dir.Write(".uet/config.yaml", """
            execution:
              retry_policy: { max_retries: 0, backoff_seconds: 0 }
            validation:
              validators:
                - name: v
                  run: [sh, -c, "git checkout -q develop 2>/dev/null; exit 0"]
            """);
        _dir.Write("workstreams/ws-a.json", """{ "id": "ws-a", "files_scope": ["a.txt"], "command": ["sh", "-c", "echo a > a.txt"] }""");
        _dir.Write("workstreams/ws-b.json", """{ "id": "ws-b", "files_scope": ["b.txt"], "command": ["sh", "-c", "echo b > b.txt"] }""");

        var result = CliRunner.Uet(_dir.Path, "run", "--run-id", "r-v", "-w", "1");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("2", Scalar("SELECT COUNT(*) FROM patches WHERE state = 'rolled_back'"));
        Assert.Contains("a validator moved the integration worktree's HEAD", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(develop, CliRunner.GitOutput(_dir.Path, "rev-parse", "develop"));
        Assert.Equal(develop, CliRunner.GitOutput(_dir.Path, "rev-parse", "uet/r-v"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Run_EightPatchesOneRejected_SameBranchWhateverTheBatchSize(int batchSize)
    {
        // Eight tools that finish together (each waits for the others), one validator for all: with a batch size of 4
        // the waiting patches share validations and the bad one is found by bisection; the branch is the same.
        var gate = Path.Combine(_markers.Path, "gate");
        Directory.CreateDirectory(gate);
        var runs = Path.Combine(_markers.Path, "validations");
        _dir.Write(".uet/config.yaml", $$"""
            execution:
              retry_policy: { max_retries: 0, backoff_seconds: 0 }
            validation:
              validators:
                - name: tests
                  run: [sh, -c, "sleep 0.3; echo run >> {{runs}}; ! grep -rq BAD --include=*.txt ."]
            integration:
              batch_size: {{batchSize}}
            """);
        for (var i = 1; i <= 8; i++)
        {
            var text = i == 6 ? "BAD" : $"ok {i}";
            _dir.Write($"workstreams/ws-{i}.json", $$"""{ "id": "ws-{{i}}", "files_scope": ["f{{i}}.txt"], "command": ["sh", "-c", "touch {{gate}}/{{i}}; n=0; while [ $(ls {{gate}} | wc -l) -lt 8 ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done; echo '{{text}}' > f{{i}}.txt"] }""");
        }

        var result = CliRunner.Uet(_dir.Path, "run", "--run-id", "r-b", "-w", "8");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("rolled_back", Scalar("SELECT state FROM patches WHERE task_id = 'r-b:ws-6'"));
        Assert.Equal("7", Scalar("SELECT COUNT(*) FROM patches WHERE state = 'committed'"));
        var files = CliRunner.Run(_dir.Path, "git", ["ls-tree", "-r", "--name-only", "uet/r-b"]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["README.md", "f1.txt", "f2.txt", "f3.txt", "f4.txt", "f5.txt", "f7.txt", "f8.txt"], files.Order(StringComparer.Ordinal));
        var validations = File.ReadAllLines(runs).Length;
        File.Delete(runs);
        Directory.Delete(gate, recursive: true);
        if (batchSize == 1)
        {
            Assert.Equal(8, validations);
        }
        else
        {
            Assert.True(validations < 8, $"{validations} validations with batch_size {batchSize}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Run_CompletionCannotBeRecorded_RunStopsUnfinished_ResumeReconcilesWithoutRedoingIt(bool atCommit)
    {
        // ws-a's patch is on the branch but its completion is not recorded: retrying ws-a would apply it again, so the
        // run stops, left for uet resume. Either the store refuses to make ws-x ready, which happens in ws-a's
        // completion; or the completion's commit itself fails (a deferred foreign key, checked only at COMMIT) after
        // its body was written, while it is being committed in the background and its worker goes on.
        _dir.Write("workstreams/ws-a.json", """{ "id": "ws-a", "files_scope": ["a.txt"], "command": ["sh", "-c", "echo a >> a.txt"] }""");
        _dir.Write("workstreams/ws-x.json", """{ "id": "ws-x", "depends_on": ["ws-a"], "files_scope": ["x.txt"], "command": ["sh", "-c", "cat a.txt > x.txt"] }""");
        var database = Path.Combine(_dir.Path, ".state", "uet.db");
        if (atCommit)
        {
            TestRepository.Execute(database, "CREATE TABLE poison (run_id TEXT REFERENCES runs (run_id) DEFERRABLE INITIALLY DEFERRED)");
            TestRepository.Execute(database, "CREATE TRIGGER refuse AFTER UPDATE OF state ON tasks WHEN NEW.task_id = 'r-f:ws-a' AND NEW.state = 'completed' BEGIN INSERT INTO poison VALUES ('no such run'); END");
        }
        else
        {
            TestRepository.Execute(database, "CREATE TRIGGER refuse BEFORE UPDATE OF state ON tasks WHEN NEW.task_id = 'r-f:ws-x' AND NEW.state = 'ready' BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
        }

        var result = CliRunner.Uet(_dir.Path, "run", "--run-id", "r-f");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("ws-a: its completion could not be recorded", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("'uet resume r-f' reconciles it with git", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("running", Scalar("SELECT state FROM runs"));
        Assert.Equal("running", Scalar("SELECT state FROM tasks WHERE task_id = 'r-f:ws-a'")); // none of the completion was kept

        TestRepository.Execute(database, "DROP TRIGGER refuse");
        var resumed = CliRunner.Uet(_dir.Path, "resume");

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal("a\n", CliRunner.Run(_dir.Path, "git", ["show", "uet/r-f:x.txt"]).Stdout); // ws-a applied once
        Assert.Equal("1", Scalar("SELECT COUNT(*) FROM steps WHERE task_id = 'r-f:ws-a'"));
        Assert.Equal(0, TestRepository.StatesDisagreeingWithEvents(_dir.Path));
    }

    [Fact]
    public void Run_StartCommitFails_WithoutIsolation_RunStopsNamingTheStart()
    {
        // Without a worktree nothing waits for an attempt's start to be durable: the tool runs and the task completes
        // while it is committed. A start whose commit fails must still stop the run, and be named as the cause.
        _dir.Write(".uet/config.yaml", "isolation:\n  strategy: none\n");
        _dir.Write("workstreams/ws-a.json", """{ "id": "ws-a", "command": ["true"] }""");
        _dir.Write("workstreams/ws-b.json", """{ "id": "ws-b", "depends_on": ["ws-a"], "command": ["true"] }""");
        var database = Path.Combine(_dir.Path, ".state", "uet.db");
        TestRepository.Execute(database, "CREATE TABLE poison (run_id TEXT REFERENCES runs (run_id) DEFERRABLE INITIALLY DEFERRED)");
        TestRepository.Execute(database, "CREATE TRIGGER poison_start AFTER INSERT ON steps WHEN NEW.task_id = 'r-h:ws-a' BEGIN INSERT INTO poison VALUES ('no such run'); END");

        var result = CliRunner.Uet(_dir.Path, "run", "--run-id", "r-h");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("ws-a: the start of attempt 1 could not be recorded", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("running", Scalar("SELECT state FROM runs"));
        Assert.Equal("0", Scalar("SELECT COUNT(*) FROM steps"));

        TestRepository.Execute(database, "DROP TRIGGER poison_start");
        var resumed = CliRunner.Uet(_dir.Path, "resume");

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal("completed", Scalar("SELECT state FROM tasks WHERE task_id = 'r-h:ws-b'"));
        Assert.Equal(0, TestRepository.StatesDisagreeingWithEvents(_dir.Path));
    }

    [Fact]
    public void Run_RecordsItsConfig_WithoutTheSecretsOfTheEnvironment()
    {
        const string Key = "sk-uet-test-config-0123456789";
        _dir.Write(".uet/config.yaml", $"# the key is {Key}, do not commit\nexecution:\n  max_workers: 2\n");
        _dir.Write("workstreams/ws-a.json", """{ "id": "ws-a", "files_scope": ["a.txt"], "command": ["sh", "-c", "echo a > a.txt"] }""");

        var result = CliRunner.UetWithEnvironment(_dir.Path, new Dictionary<string, string> { ["OPENAI_API_KEY"] = Key }, "run", "--run-id", "r-c");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("# the key is ***, do not commit\nexecution:\n  max_workers: 2\n", Scalar("SELECT config FROM runs"));
    }
}
