using System.Globalization;
using Uet.Config;
using Uet.Git;
using Uet.Integration;
using Uet.State;
using Uet.Telemetry;
using Uet.Workstreams;
using P = Uet.State.StateMachines.Patch;
using S = Uet.State.StateMachines.Step;
using T = Uet.State.StateMachines.Task;

namespace Uet.Execution;

/// <summary>
/// Runs one task to its end on one worker: attempts (each a step) in a fresh worktree at the integration head, the
/// tool, the patch and its scope check, the acceptance gate, integration, and retries with backoff until the circuit
/// breaker opens. Every state change goes through <see cref="StateChanger"/>.
/// </summary>
internal sealed class TaskRunner(RunContext run, Workstream workstream, string workerId)
{
    private readonly string _taskId = RunContext.TaskId(run.RunId, workstream.Id);
    private readonly List<string> _errors = [];
    private readonly List<string> _diffHashes = [];

    private bool _started;

    // A process of the attempt's tool was killed (timeout, stop) rather than ending by itself: what it spent is unknown.
    private bool _killed;

    /// <summary>How the reason of an attempt cut short by a stop or a crash begins: such an attempt is not held against the task.</summary>
    internal const string Interrupted = "interrupted: ";

    // Set when the attempts' recorded cost passed the workstream's max_cost_usd: no retry after that.
    private string? _overBudget;

    // The worker's state after the task's last transaction: only an IDLE worker takes another task.
    private string _workerAfter = StateMachines.Worker.Idle;

    // Changes that must land with the next attempt's step (task start or restart), in the same transaction.
    private Func<StoreTransaction, CancellationToken, Task>? _prelude;

    // Stored data read by people and sqlite3, not embedded in HTML: no \u003E for '>'.
    private static readonly System.Text.Json.JsonSerializerOptions PlainJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <param name="stopping">The run is draining (Ctrl+C): no new attempt starts, and a failure is not held against the task.</param>
    /// <param name="abort">Kills the attempt in progress (Ctrl+C after the grace period).</param>
    public async Task<TaskOutcome> RunAsync(CancellationToken stopping, CancellationToken abort)
    {
        using var span = UetTelemetry.StartTask(run.RunId, workstream.Id);
        try
        {
            var outcome = await RunCoreAsync(stopping, abort).ConfigureAwait(false);
            return outcome with { WorkerReusable = _workerAfter == StateMachines.Worker.Idle };
        }
        catch (StateException ex) when (!_started)
        {
            // The task could not even start (its worker was drained or terminated meanwhile): nothing was written, the
            // task is still ready, and the dispatcher gives it to another worker.
            return new TaskOutcome(workstream.Id, TaskResult.NotStarted, 0, ex.Message, null) { WorkerReusable = false };
        }
    }

    private async Task<TaskOutcome> RunCoreAsync(CancellationToken stopping, CancellationToken abort)
    {
        // State writes use CancellationToken.None: a task that is being killed must still leave consistent state.
        // The task's start (worker busy, task running) is written with its first step, in one transaction.
        _prelude = async (transaction, token) =>
        {
            await WorkerPool.AssignAsync(transaction, workerId, _taskId, token).ConfigureAwait(false);
            await run.ChangeInAsync(transaction, EntityKind.Task, _taskId, T.Running, $"worker {workerId}").ConfigureAwait(false);
        };
        var maxAttempts = Math.Max(1, workstream.CircuitBreaker?.MaxAttempts ?? run.Config.Execution.RetryPolicy.MaxRetries + 1);
        // After a resume, attempts go on numbering from the last one; the interrupted attempt does not count against the task.
        var previous = run.Resuming ? await run.Store.LastAttemptAsync(_taskId, CancellationToken.None).ConfigureAwait(false) : 0;
        if (run.Resuming)
        {
            // What the circuit breaker counted before the interruption still counts: the errors and the changes of the
            // attempts that failed on their own (not those the interruption cut short).
            foreach (var (_, error, sha) in await run.Store.FailedAttemptsAsync(_taskId, CancellationToken.None).ConfigureAwait(false))
            {
                if (error.StartsWith(Interrupted, StringComparison.Ordinal))
                {
                    continue;
                }

                _errors.Add(error);
                if (sha is not null)
                {
                    _diffHashes.Add(sha);
                }
            }
        }

        if (run.Resuming && ToolSpend.Limit(workstream) is { } limit
            && (await run.Store.TaskUsageAsync(_taskId, CancellationToken.None).ConfigureAwait(false)).CostUsd is { } spent && spent >= limit)
        {
            // Its budget was spent before the interruption (an attempt cut short after it had paid): no attempt more.
            var why = $"cost limit: the attempts of {workstream.Id} had cost {ToolUsage.FormatUsd(spent)} before the interruption, its max_cost_usd is {ToolUsage.FormatUsd(limit)}; not run again";
            var start = _prelude;
            await run.TransactAsync(async (transaction, token) =>
            {
                await start(transaction, token).ConfigureAwait(false);
                await run.ChangeInAsync(transaction, EntityKind.Task, _taskId, T.Failed, why).ConfigureAwait(false);
                _workerAfter = await WorkerPool.ReleaseAsync(transaction, workerId, token).ConfigureAwait(false);
            }).ConfigureAwait(false);
            _started = true;
            run.Report(new RunProgress("failed", workstream.Id, why, 0, 0));
            return new TaskOutcome(workstream.Id, TaskResult.Failed, previous, why, null);
        }

        for (var attempt = previous + 1; ; attempt++)
        {
            var (outcome, error) = await AttemptAsync(attempt, abort).ConfigureAwait(false);
            if (outcome is not null)
            {
                return outcome;
            }

            error = run.Redactor.Clean(error!);
            _errors.Add(error);
            if (stopping.IsCancellationRequested || abort.IsCancellationRequested)
            {
                // A tool that failed while the run was being stopped may simply have been interrupted: not its fault.
                return await CancelledAsync(attempt, error).ConfigureAwait(false);
            }

            var stepId = RunContext.AttemptId(run.RunId, workstream.Id, attempt);
            if (BreakerReason(_errors.Count, maxAttempts) is { } open)
            {
                await run.TransactAsync(async (transaction, _) =>
                {
                    await run.ChangeInAsync(transaction, EntityKind.Step, stepId, S.Failed, error).ConfigureAwait(false);
                    await run.ChangeInAsync(transaction, EntityKind.Task, _taskId, T.Failed, $"{open}; last error: {error}").ConfigureAwait(false);
                    _workerAfter = await WorkerPool.ReleaseAsync(transaction, workerId, CancellationToken.None).ConfigureAwait(false);
                }).ConfigureAwait(false);
                run.Report(new RunProgress("failed", workstream.Id, $"{open}: {FirstLine(error)}", 0, 0));
                return new TaskOutcome(workstream.Id, TaskResult.Failed, attempt, $"{open}: {error}", null);
            }

            var delay = TimeSpan.FromSeconds(run.Config.Execution.RetryPolicy.BackoffSeconds * Math.Pow(2, attempt - 1));
            run.Report(new RunProgress("retry", workstream.Id, $"attempt {attempt} failed ({FirstLine(error)}); retrying in {delay.TotalSeconds:0.##} s", 0, 0));
            await run.TransactAsync(async (transaction, _) =>
            {
                await run.ChangeInAsync(transaction, EntityKind.Step, stepId, S.Failed, error).ConfigureAwait(false);
                await run.ChangeInAsync(transaction, EntityKind.Task, _taskId, T.Ready, $"attempt {attempt} failed; retry in {delay.TotalSeconds:0.##} s").ConfigureAwait(false);
            }).ConfigureAwait(false);
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(stopping, abort))
            {
                try
                {
                    await Task.Delay(delay, run.Clock, wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Already ready: resume runs it again.
                    await run.TransactAsync(async (transaction, token) => _workerAfter = await WorkerPool.ReleaseAsync(transaction, workerId, token).ConfigureAwait(false)).ConfigureAwait(false);
                    run.Report(new RunProgress("cancelled", workstream.Id, "run stopped before the retry", 0, 0));
                    return new TaskOutcome(workstream.Id, TaskResult.Cancelled, attempt, error, null);
                }
            }

            var next = attempt + 1;
            _prelude = (transaction, _) => run.ChangeInAsync(transaction, EntityKind.Task, _taskId, T.Running, $"attempt {next} on worker {workerId}");
        }
    }

    private async Task<TaskOutcome> CancelledAsync(int attempt, string error)
    {
        var stepId = RunContext.AttemptId(run.RunId, workstream.Id, attempt);
        await run.TransactAsync(async (transaction, token) =>
        {
            await run.ChangeInAsync(transaction, EntityKind.Step, stepId, S.Failed, Interrupted + error).ConfigureAwait(false);
            await run.ChangeInAsync(transaction, EntityKind.Task, _taskId, T.Ready, "run stopped during the attempt; resume runs it again").ConfigureAwait(false);
            _workerAfter = await WorkerPool.ReleaseAsync(transaction, workerId, token).ConfigureAwait(false);
        }).ConfigureAwait(false);
        run.Report(new RunProgress("cancelled", workstream.Id, "run stopped during the attempt", 0, 0));
        return new TaskOutcome(workstream.Id, TaskResult.Cancelled, attempt, error, null);
    }

    private string? BreakerReason(int attempt, int maxAttempts)
    {
        if (_overBudget is not null)
        {
            return "cost limit reached";
        }

        var last = _errors[^1];
        if (workstream.CircuitBreaker?.MaxErrorRepeats is { } repeats && repeats > 0 && _errors.Count(e => e == last) >= repeats)
        {
            return $"circuit breaker: the same error {repeats} times";
        }

        if (workstream.CircuitBreaker?.OscillationThreshold is { } threshold && threshold > 0 && _diffHashes.Count > 0
            && _diffHashes.Count(h => h == _diffHashes[^1]) >= threshold)
        {
            return $"circuit breaker: the same change {threshold} times";
        }

        return attempt >= maxAttempts ? $"gave up after {attempt} attempt{(attempt == 1 ? string.Empty : "s")}" : null;
    }

    /// <summary>One attempt. Returns an outcome when the task is done (either way), or the error to retry on.</summary>
    private async Task<(TaskOutcome? Outcome, string? Error)> AttemptAsync(int attempt, CancellationToken abort)
    {
        var none = CancellationToken.None;
        using var span = UetTelemetry.StartAttempt(run.RunId, workstream.Id, attempt);
        var stepId = RunContext.AttemptId(run.RunId, workstream.Id, attempt);
        var prelude = _prelude;
        _prelude = null;
        // The tool starts while this is made durable. What the attempt writes later commits after it (one writer at a
        // time, in order), so on disk it is never without its start; the start is awaited before anything outside the
        // store changes (the integration branch) and before a failure is recorded. A completion carries it with its own.
        var startRecorded = await run.TransactDurableLaterAsync(async (transaction, token) =>
        {
            if (prelude is not null)
            {
                await prelude(transaction, token).ConfigureAwait(false);
            }

            await StateChanger.CreateAsync(transaction, new NewEntity(EntityKind.Step, stepId, run.RunId, new Dictionary<string, object?>
            {
                ["task_id"] = _taskId,
                ["attempt"] = attempt,
            }), token).ConfigureAwait(false);
            await run.ChangeInAsync(transaction, EntityKind.Step, stepId, S.Running, $"worker {workerId}").ConfigureAwait(false);
        }).ConfigureAwait(false);
        _started = true;
        run.Report(new RunProgress("started", workstream.Id, $"attempt {attempt} on {workerId}", 0, 0));

        var isolated = run.Config.Isolation.Strategy == IsolationStrategy.Worktree;
        var workdir = isolated ? Path.Combine(run.RunFolder, $"{workstream.Id}-{attempt.ToString(CultureInfo.InvariantCulture)}") : string.Empty;
        var logs = run.LogFolder(workstream.Id);
        var log = Path.Combine(logs, $"{attempt}.log");
        try
        {
            // Without a worktree there is no patch to base on anything: no git call at all on that path.
            // The queue's validated tip (the integration worktree itself may hold commits not validated yet).
            var head = isolated ? run.Merges.Tip : string.Empty;
            if (isolated)
            {
                await run.WorktreeGate.WaitAsync(none).ConfigureAwait(false);
                try
                {
                    await GitRepository.AddWorktreeAsync(run.Repository, workdir, head, detach: true, none).ConfigureAwait(false);
                }
                finally
                {
                    run.WorktreeGate.Release();
                }
            }
            else
            {
                // isolation: none - the worker's scratch copy of the integration branch's files, no git: nothing is captured.
                workdir = run.Scratch.Prepare(workerId);
            }

            // The log folder and files are made when there is something to put there: a prompt the tool reads, output.
            string? prompt = null;
            var adapter = run.Adapters.Resolve(workstream);
            if (adapter.ReadsPrompt(workstream, run.Adapters.ToolConfig(adapter.Name)))
            {
                Directory.CreateDirectory(logs);
                prompt = Path.Combine(logs, $"{attempt}.prompt.md");
                File.WriteAllText(prompt, PromptFile.Render(workstream, attempt, _errors.LastOrDefault()));
            }

            // A worktree shares the repository's branches and tags: whatever the tool does to them is undone after it.
            var refs = isolated ? await GitRepository.RefsAsync(run.Repository, none).ConfigureAwait(false) : null;
            var error = await RunToolAsync(adapter, attempt, workdir, prompt, log, abort).ConfigureAwait(false);
            if (isolated || startRecorded.IsFaulted)
            {
                await RecordedAsync(startRecorded, attempt).ConfigureAwait(false);
            }

            if (refs is not null)
            {
                var integrationRef = "refs/heads/" + run.IntegrationBranch;
                var restored = await GitRepository.RestoreRefsAsync(
                    run.Repository, refs, name => name == integrationRef || name.StartsWith("refs/heads/uet/", StringComparison.Ordinal), workdir, head, none).ConfigureAwait(false);
                if (restored.Count > 0)
                {
                    run.Report(new RunProgress("warning", workstream.Id, "the tool changed the repository's refs; undone: " + string.Join("; ", restored), 0, 0));
                }
            }

            if (await ToolSpend.RecordAsync(run, workstream, _taskId, stepId, log, _killed).ConfigureAwait(false) is { } overBudget)
            {
                _overBudget = overBudget;
                error = error is null ? overBudget : $"{overBudget}\n{error}";
            }

            CapturedPatch? patch = null;
            if (error is null && isolated)
            {
                patch = await PatchCapture.CaptureAsync(workstream, workdir, head, run.LedgerFile(workstream.Id, attempt), none).ConfigureAwait(false);
                _diffHashes.Add(patch.Sha256);
                if (patch.Verdict == PatchVerdict.Quarantined)
                {
                    return (await QuarantineAsync(stepId, attempt, patch).ConfigureAwait(false), null);
                }
            }

            if (error is null && run.Adapters.ToolOf(workstream) != "tests")
            {
                error = await GateAsync(attempt, workdir, prompt, log, abort).ConfigureAwait(false);
            }

            if (error is null)
            {
                var integration = patch is { Verdict: PatchVerdict.Validated }
                    ? await IntegrateAsync(attempt, patch).ConfigureAwait(false)
                    : new QueueOutcome(null, null, false);
                if (integration.RolledBack)
                {
                    return (await RolledBackAsync(stepId, attempt, integration.Error!).ConfigureAwait(false), null);
                }

                var (commit, integrationError) = (integration.Commit, integration.Error);
                if (integrationError is null)
                {
                    // The task's end, its dropped patch if any, and the dependents it makes ready: one transaction. Its
                    // worker and the dependents go on while it is made durable; the dispatcher awaits it (outcome.Recorded)
                    // before the run ends, and stops the run if it fails.
                    IReadOnlyList<string> nowReady = [];
                    Task endRecorded;
                    try
                    {
                        endRecorded = await run.TransactDurableLaterAsync(async (transaction, token) =>
                        {
                            if (patch is { Verdict: PatchVerdict.Dropped })
                            {
                                await RecordPatchAsync(transaction, attempt, patch, [P.Dropped], "no change").ConfigureAwait(false);
                            }

                            await run.ChangeInAsync(transaction, EntityKind.Step, stepId, S.Completed, null).ConfigureAwait(false);
                            await run.ChangeInAsync(transaction, EntityKind.Task, _taskId, T.Completed, commit is null ? "completed with no change" : $"committed {commit[..12]}").ConfigureAwait(false);
                            _workerAfter = await WorkerPool.ReleaseAsync(transaction, workerId, token).ConfigureAwait(false);
                            if (run.Completing is { } completing)
                            {
                                nowReady = await completing(transaction, workstream.Id).ConfigureAwait(false);
                            }
                        }).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // The work is done (its patch may be on the branch already) but not recorded: a retry would redo
                        // it, and the dispatcher's counts of what each dependent waits for were already taken. Stop the run.
                        // If the attempt's own start could not be made durable, that is the cause (its step is gone).
                        await RecordedAsync(startRecorded, attempt).ConfigureAwait(false);
                        throw NotRecorded("its completion", ex);
                    }

                    run.Report(new RunProgress("completed", workstream.Id, Summary(patch, commit), 0, 0));
                    return (new TaskOutcome(workstream.Id, TaskResult.Completed, attempt, Summary(patch, commit), commit)
                    {
                        NowReady = nowReady,
                        Recorded = CompletionRecordedAsync(startRecorded, attempt, endRecorded),
                    }, null);
                }

                error = integrationError;
            }

            // The step fails together with the task's next state (ready for a retry, or failed), in RunAsync.
            await RecordedAsync(startRecorded, attempt).ConfigureAwait(false);
            return (null, error);
        }
#pragma warning disable CA1031 // An attempt ends in a failed step whatever broke; only the run's own stop is not a failure.
        catch (Exception ex) when (ex is not OperationCanceledException and not QueueFailure)
#pragma warning restore CA1031
        {
            await RecordedAsync(startRecorded, attempt).ConfigureAwait(false);
            return (null, run.Redactor.Clean(ex is GitProcessException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}"));
        }
        finally
        {
            // A scratch folder (isolation: none) stays with its worker, put back before its next attempt.
            if (isolated)
            {
                await RemoveWorktreeAsync(workdir).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The attempt's start and the task's completion are durable; a store that could not make them so stops the run.</summary>
    private async Task CompletionRecordedAsync(Task startRecorded, int attempt, Task endRecorded)
    {
        await RecordedAsync(startRecorded, attempt).ConfigureAwait(false);
        try
        {
            await endRecorded.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw NotRecorded("its completion", ex);
        }
    }

    /// <summary>Waits for the attempt's start to be durable; a store that could not make it so stops the run.</summary>
    private async Task RecordedAsync(Task startRecorded, int attempt)
    {
        try
        {
            await startRecorded.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw NotRecorded($"the start of attempt {attempt}", ex);
        }
    }

    /// <summary>What stops the run when part of this task's work could not be made durable (resume reconciles it).</summary>
    private QueueFailure NotRecorded(string what, Exception cause) =>
        new(run.RunId, $"{workstream.Id}: {what} could not be recorded: {cause.Message}", cause);

    private async Task RemoveWorktreeAsync(string workdir)
    {
        try
        {
            await run.WorktreeGate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                await GitRepository.RemoveWorktreeAsync(run.Repository, workdir, CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                run.WorktreeGate.Release();
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or GitProcessException)
        {
            // A leftover folder is for 'uet clean'; it must not turn a finished attempt into a crash.
            run.Report(new RunProgress("warning", workstream.Id, $"could not remove {workdir}: {ex.Message}", 0, 0));
        }
    }

    private async Task<string?> RunToolAsync(Adapters.ToolAdapter adapter, int attempt, string workdir, string? prompt, string log, CancellationToken abort)
    {
        _killed = false;
        var context = new Adapters.ToolContext(workstream, run.RunId, attempt, workdir, prompt, run.Adapters.ToolConfig(adapter.Name));
        foreach (var invocation in adapter.Prepare(context))
        {
            var error = await RunProcessAsync(invocation.Argv, invocation.Environment, workdir, log, abort, invocation.Timeout, invocation.Stdin).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }
        }

        return null;
    }

    /// <summary>The acceptance commands (<c>{"run": [...]}</c>) as a gate, in the worktree, after the tool.</summary>
    private async Task<string?> GateAsync(int attempt, string workdir, string? prompt, string log, CancellationToken abort)
    {
        foreach (var test in workstream.AcceptanceTests.Where(t => t.Run is { Count: > 0 }))
        {
            var environment = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["UET_RUN_ID"] = run.RunId,
                ["UET_WORKSTREAM_ID"] = workstream.Id,
                ["UET_ATTEMPT"] = attempt.ToString(CultureInfo.InvariantCulture),
            };
            if (prompt is not null)
            {
                environment["UET_PROMPT_FILE"] = prompt;
            }

            if (await RunProcessAsync(test.Run!, environment, workdir, log, abort).ConfigureAwait(false) is { } error)
            {
                return "acceptance test failed: " + error;
            }
        }

        return null;
    }

    private async Task<string?> RunProcessAsync(IReadOnlyList<string> argv, IReadOnlyDictionary<string, string> environment, string workdir, string log, CancellationToken abort, TimeSpan? toolTimeout = null, string? stdin = null)
    {
        using var span = UetTelemetry.StartToolCall(run.RunId, workstream.Id, argv[0]);
        var spec = new ProcessSpec(argv, workdir, environment, workstream.Timeout ?? toolTimeout ?? run.Options.EffectiveTimeout, log, run.Options.LogCapBytes, stdin);
        ProcessOutcome outcome;
        try
        {
            outcome = await ProcessRunner.RunAsync(spec, run.Redactor, run.Clock, abort).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _killed = true;
            return "killed: the run was stopped";
        }

        _killed |= outcome.TimedOut;
        UetTelemetry.Fail(outcome.Succeeded ? null : span, outcome.Describe());
        return outcome.Succeeded
            ? null
            : run.Redactor.Clean($"{Shown(argv)}: {outcome.Describe()}" + (outcome.Tail.Length > 0 ? "\n" + outcome.Tail : string.Empty));
    }

    /// <summary>
    /// A command line as errors show it: whole when short, else the program alone. An AI tool's argv holds the whole
    /// prompt, which holds the last error: shown whole, each retry's error (and prompt) would nest all the ones before.
    /// </summary>
    private static string Shown(IReadOnlyList<string> argv)
    {
        var line = string.Join(' ', argv);
        return line.Length <= 200 && !line.Contains('\n', StringComparison.Ordinal) ? line : $"{argv[0]} (and {argv.Count - 1} arguments)";
    }

    private async Task<TaskOutcome> RolledBackAsync(string stepId, int attempt, string why)
    {
        await run.TransactAsync(async (transaction, token) =>
        {
            await run.ChangeInAsync(transaction, EntityKind.Step, stepId, S.Failed, "rolled back: " + why).ConfigureAwait(false);
            await run.ChangeInAsync(transaction, EntityKind.Task, _taskId, T.Failed, "patch rolled back: " + why).ConfigureAwait(false);
            _workerAfter = await WorkerPool.ReleaseAsync(transaction, workerId, token).ConfigureAwait(false);
        }).ConfigureAwait(false);
        run.Report(new RunProgress("rolled_back", workstream.Id, why, 0, 0));
        return new TaskOutcome(workstream.Id, TaskResult.RolledBack, attempt, why, null);
    }

    private async Task<TaskOutcome> QuarantineAsync(string stepId, int attempt, CapturedPatch patch)
    {
        await run.TransactAsync(async (transaction, token) =>
        {
            await RecordPatchAsync(transaction, attempt, patch, [P.Quarantined], patch.Reason).ConfigureAwait(false);
            await run.ChangeInAsync(transaction, EntityKind.Step, stepId, S.Failed, "quarantined: " + patch.Reason).ConfigureAwait(false);
            await run.ChangeInAsync(transaction, EntityKind.Task, _taskId, T.Failed, "patch quarantined: " + patch.Reason).ConfigureAwait(false);
            _workerAfter = await WorkerPool.ReleaseAsync(transaction, workerId, token).ConfigureAwait(false);
        }).ConfigureAwait(false);
        run.Report(new RunProgress("quarantined", workstream.Id, patch.Reason!, 0, 0));
        return new TaskOutcome(workstream.Id, TaskResult.Quarantined, attempt, patch.Reason, null);
    }

    /// <summary>Creates the patch row and walks it through <paramref name="path"/> (validated, queued; quarantined; dropped).</summary>
    private async Task<string> RecordPatchAsync(StoreTransaction transaction, int attempt, CapturedPatch patch, IReadOnlyList<string> path, string? reason)
    {
        var none = CancellationToken.None;
        var patchId = RunContext.AttemptId(run.RunId, workstream.Id, attempt);
        await StateChanger.CreateAsync(transaction, new NewEntity(EntityKind.Patch, patchId, run.RunId, new Dictionary<string, object?>
        {
            ["task_id"] = _taskId,
            ["sha256"] = patch.Sha256,
            ["path"] = Path.GetRelativePath(run.Repository, patch.File),
            ["files"] = System.Text.Json.JsonSerializer.Serialize(
                patch.Files.Select(f => f.OldPath is null ? $"{f.Status} {f.Path}" : $"{f.Status} {f.OldPath} -> {f.Path}"),
                PlainJson),
            ["lines_added"] = patch.LinesAdded,
            ["lines_removed"] = patch.LinesRemoved,
        }), none).ConfigureAwait(false);
        foreach (var to in path)
        {
            await run.ChangeInAsync(transaction, EntityKind.Patch, patchId, to, reason).ConfigureAwait(false);
        }

        return patchId;
    }

    /// <summary>
    /// The merge step: the patch is queued and the merge queue applies it (three-way) on the integration branch with
    /// others, runs the validators and commits it with its trailers (see <see cref="MergeQueue"/>). A patch
    /// that does not apply is apply_failed (the attempt may be retried on the new head); one a blocking validator
    /// rejects is rolled back and the task fails.
    /// </summary>
    private async Task<QueueOutcome> IntegrateAsync(int attempt, CapturedPatch patch)
    {
        using var span = UetTelemetry.StartPatchApply(run.RunId, workstream.Id, patch.Sha256);
        var patchId = string.Empty;
        await run.TransactAsync(async (transaction, _) => patchId = await RecordPatchAsync(transaction, attempt, patch, [P.Validated, P.Queued], null).ConfigureAwait(false)).ConfigureAwait(false);
        return await run.Merges.SubmitAsync(new MergeRequest(workstream, attempt, patchId, patch.File, patch.Sha256)).ConfigureAwait(false);
    }

    private static string Summary(CapturedPatch? patch, string? commit) =>
        patch is null || commit is null
            ? "no change"
            : $"{patch.Files.Count} file{(patch.Files.Count == 1 ? string.Empty : "s")}, +{patch.LinesAdded} -{patch.LinesRemoved}, commit {commit[..12]}";

    private static string FirstLine(string text) => text.Split('\n')[0];
}
