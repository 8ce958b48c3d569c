using System.Text.Json;
using Uet.Config;
using Uet.Execution.Adapters;
using Uet.Git;
using Uet.Planning;
using Uet.State;
using Uet.Telemetry;
using Uet.Workstreams;
using R = Uet.State.StateMachines.Run;

namespace Uet.Execution;

/// <summary>
/// One run from start to end: checks that every workstream can run, takes the run lock, creates the integration
/// branch (<c>uet/&lt;run&gt;</c>) from HEAD without touching the user's checkout, records the run and its tasks,
/// spawns the workers, dispatches, and closes everything down, whatever happened in between.
/// </summary>
public sealed partial class RunExecutor(string repository, UetConfig config, StateStore store, TimeProvider clock, Redactor redactor, Action<RunProgress> report)
{
    /// <param name="workstreams">A valid set (as loaded and validated).</param>
    /// <param name="options">Workers and limits.</param>
    /// <param name="stopping">Stop taking new tasks (Ctrl+C): running ones get <see cref="RunOptions.EffectiveDrainGrace"/>, then are killed.</param>
    public async Task<RunSummary> RunAsync(IReadOnlyList<Workstream> workstreams, RunOptions options, CancellationToken stopping)
    {
        var adapters = new AdapterRegistry(config);
        var problems = adapters.Problems(workstreams).Concat(GateProblems(workstreams)).ToList();
        if (problems.Count > 0)
        {
            throw RunException.CannotStart(problems);
        }

        var none = CancellationToken.None;
        var plan = Planner.Create(workstreams, new PlanOptions(options.Workers, config.Execution.DefaultEstimate));
        var baseCommit = await GitRepository.HeadCommitAsync(repository, none).ConfigureAwait(false);
        var runId = options.RunId ?? NewRunId();
        await RunLock.AcquireAsync(store, runId, clock, options.EffectiveLease, none).ConfigureAwait(false);
        var branch = config.Integration.Branch.Replace("{run_id}", runId, StringComparison.Ordinal);
        return await ExecuteAsync(runId, branch, baseCommit, workstreams, plan, options, adapters, stopping, async () =>
        {
            await GitRepository.CreateBranchAsync(repository, branch, baseCommit, none).ConfigureAwait(false);
            return async () => await RecordRunAsync(runId, workstreams, plan, options.ConfigText).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Everything after the run lock is held: the integration worktree, the workers, dispatch, and an orderly end
    /// whatever happens. <paramref name="prepare"/> readies git (and returns what records the run once the worktree exists).
    /// </summary>
    private async Task<RunSummary> ExecuteAsync(
        string runId,
        string branch,
        string baseCommit,
        IReadOnlyList<Workstream> workstreams,
        Plan plan,
        RunOptions options,
        AdapterRegistry adapters,
        CancellationToken stopping,
        Func<Task<Func<Task>>> prepare,
        Func<Task<Dictionary<string, string>>>? loadPrior = null)
    {
        var none = CancellationToken.None;
        using var span = UetTelemetry.StartRun(runId, loadPrior is not null);
        var started = clock.GetTimestamp();
        var integration = Path.Combine(repository, config.Isolation.WorktreeDir, runId, "integration");
        using var heartbeats = new CancellationTokenSource();
        Task? heartbeat = null;
        RunContext? context = null;
        try
        {
            var record = await prepare().ConfigureAwait(false);
            // Detached: the merge queue builds its commits there and moves the branch only to validated ones. git makes
            // it while the run is recorded (neither needs the other; together about a third of a 1,000-task run's set-up).
            var worktree = GitRepository.AddWorktreeAsync(repository, integration, branch, detach: true, none);
            try
            {
                await record().ConfigureAwait(false);
            }
            catch
            {
                await worktree.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing); // git is done before anything is cleaned up
                throw;
            }

            await worktree.ConfigureAwait(false);
            var prior = loadPrior is null ? null : await loadPrior().ConfigureAwait(false);
            var pool = new WorkerPool(store, clock, options.EffectiveLease);
            var workers = await pool.SpawnAsync(options.Workers, runId, none).ConfigureAwait(false);
            heartbeat = HeartbeatAsync(pool, runId, workers, options.EffectiveLease, heartbeats.Token);

            context = new RunContext(repository, config, store, clock, redactor, options, runId, integration, branch, adapters, report)
            {
                Resuming = loadPrior is not null,
                // A new run's branch was just made at its base commit; a resumed one's may have moved since.
                InitialTip = loadPrior is null ? baseCommit : await GitRepository.ResolveAsync(repository, "refs/heads/" + branch, none).ConfigureAwait(false),
                MergeOrder = plan.Workstreams.OrderBy(p => p.Wave).ThenBy(p => p.Rank).Select((p, i) => (p.Id, i)).ToDictionary(x => x.Id, x => x.i, StringComparer.Ordinal),
            };
            var outcomes = await DispatchAsync(context, workstreams, plan, workers, prior, stopping).ConfigureAwait(false);

            await pool.DrainAsync(none).ConfigureAwait(false);
            // An interrupted run (Ctrl+C) stays 'running', its unfinished tasks ready: 'uet resume' carries on with it.
            var state = outcomes.All(o => o.Result == TaskResult.Completed) ? R.Completed
                : stopping.IsCancellationRequested ? null
                : R.Failed;
            if (state is not null)
            {
                await ChangeAsync(EntityKind.Run, runId, state, Describe(outcomes)).ConfigureAwait(false);
            }

            await context.Merges.GuardBranchAsync().ConfigureAwait(false);
            var final = context.Merges.Tip;
            return new RunSummary(runId, state ?? "interrupted", branch, baseCommit, final, outcomes, clock.GetElapsedTime(started));
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not Integration.QueueFailure)
        {
            // A bug or a broken database: the run is recorded as failed rather than left 'running' for ever. (A result
            // git holds but the store does not is left 'running' instead: a resume reconciles the two.)
            await TryFailRunAsync(runId, ex).ConfigureAwait(false);
            throw;
        }
        finally
        {
            await heartbeats.CancelAsync().ConfigureAwait(false);
            if (heartbeat is not null)
            {
                await heartbeat.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            if (Directory.Exists(integration))
            {
                await GitRepository.RemoveWorktreeAsync(repository, integration, none).ConfigureAwait(false);
            }

            foreach (var left in context?.Scratch.RemoveAll() ?? [])
            {
                report(new RunProgress("warning", string.Empty, $"could not remove the scratch folder {left}; 'uet clean' removes it", 0, 0));
            }

            await RunLock.ReleaseAsync(store, runId, none).ConfigureAwait(false);
            var runFolder = Path.GetDirectoryName(integration)!;
            if (Directory.Exists(runFolder) && !Directory.EnumerateFileSystemEntries(runFolder).Any())
            {
                Directory.Delete(runFolder);
            }
        }
    }

    private async Task TryFailRunAsync(string runId, Exception cause)
    {
        try
        {
            await using var transaction = await store.BeginAsync(CancellationToken.None).ConfigureAwait(false);
            if (await transaction.GetStateAsync(EntityKind.Run, runId, CancellationToken.None).ConfigureAwait(false) is { State: R.Running })
            {
                await StateChanger.ChangeAsync(transaction, EntityKind.Run, runId, R.Failed, redactor.Clean($"internal error: {cause.GetType().Name}: {cause.Message}"), CancellationToken.None).ConfigureAwait(false);
                await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (StateException)
        {
            // The database itself is what failed; the original error is the one to report.
        }
    }

    /// <summary>A gate a workstream requires must have a validator that checks it, or the gate would pass unchecked.</summary>
    private IEnumerable<string> GateProblems(IReadOnlyList<Workstream> workstreams) =>
        from ws in workstreams
        from gate in ws.TestGates
        where gate.Required && !config.Validation.Validators.Any(v => v.Gate == gate.Type)
        select $"{ws.Id} ({ws.Location}): requires gate {GateName(gate.Type)}, but validation.validators has no validator with that gate";

    private static string GateName(ValidationGate gate) => gate switch
    {
        ValidationGate.Lint => "GATE_LINT",
        ValidationGate.Unit => "GATE_UNIT",
        ValidationGate.Integration => "GATE_INTEGRATION",
        _ => "GATE_SECURITY",
    };

    private string NewRunId() =>
        $"r-{clock.GetUtcNow().UtcDateTime:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..4]}";

    private static string Describe(IReadOnlyList<TaskOutcome> outcomes) =>
        string.Join(", ", outcomes.GroupBy(o => o.ResultName).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}"));

    /// <summary>The run, the definitions it executes, and its tasks, all in one transaction: a run exists whole or not at all.</summary>
    private async Task RecordRunAsync(string runId, IReadOnlyList<Workstream> workstreams, Plan plan, string? configText)
    {
        var none = CancellationToken.None;
        // Each definition serialized once, for its row and for the plan's hash (serializing them was a tenth of a
        // 1,000-task run's own time when done twice).
        var definitions = workstreams.Select(ws => (ws.Id, Json: JsonSerializer.Serialize(ws))).ToArray();
        await using var transaction = await store.BeginAsync(none).ConfigureAwait(false);
        await StateChanger.CreateAsync(transaction, new NewEntity(EntityKind.Run, runId, null, new Dictionary<string, object?>
        {
            ["plan_hash"] = PlanHash(definitions),
            ["config"] = configText is null ? null : redactor.Clean(configText), // a secret written into the file stays out of the database
        }), none).ConfigureAwait(false);
        foreach (var (id, json) in definitions)
        {
            await transaction.AddRunWorkstreamAsync(runId, id, json, none).ConfigureAwait(false);
            await StateChanger.CreateAsync(transaction, new NewEntity(EntityKind.Task, RunContext.TaskId(runId, id), runId, new Dictionary<string, object?>
            {
                ["workstream_id"] = id,
            }), none).ConfigureAwait(false);
        }

        await StateChanger.ChangeAsync(transaction, EntityKind.Run, runId, R.Running, $"{workstreams.Count} workstreams, {plan.Waves.Count} waves", none).ConfigureAwait(false);
        await transaction.CommitAsync(none).ConfigureAwait(false);
    }

    /// <summary>SHA-256 of the definitions in id order as one JSON array: the same text as serializing the sorted list.</summary>
    internal static string PlanHash(IEnumerable<(string Id, string Json)> definitions) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
            "[" + string.Join(',', definitions.OrderBy(d => d.Id, StringComparer.Ordinal).Select(d => d.Json)) + "]")));

    private async Task ChangeAsync(EntityKind kind, string id, string to, string? reason)
    {
        await using var transaction = await store.BeginAsync(CancellationToken.None).ConfigureAwait(false);
        await StateChanger.ChangeAsync(transaction, kind, id, to, reason, CancellationToken.None).ConfigureAwait(false);
        await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Renews the workers' leases and the run lock three times per lease while the run lasts.</summary>
    private async Task HeartbeatAsync(WorkerPool pool, string runId, IReadOnlyList<string> workers, TimeSpan lease, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(lease / 3, clock);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await RunLock.HeartbeatAsync(store, runId, clock, lease, cancellationToken).ConfigureAwait(false);
                foreach (var worker in workers)
                {
                    await pool.HeartbeatAsync(worker, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (StateException)
            {
                // A busy database or a worker already drained at the end of the run: the next tick tries again.
            }
        }
    }
}
