using System.Text.Json;
using Uet.Execution.Adapters;
using Uet.Git;
using Uet.Planning;
using Uet.State;
using Uet.Workstreams;
using P = Uet.State.StateMachines.Patch;
using T = Uet.State.StateMachines.Task;

namespace Uet.Execution;

public sealed partial class RunExecutor
{
    /// <summary>
    /// Continues a run that did not end (uet was killed, the machine went down, or Ctrl+C): takes the run lock (from a
    /// dead holder on this machine at once), reconciles every unfinished state with git - a patch whose commit (found
    /// by its Uet-Patch trailer) is on the integration branch is committed and its task completed; anything else that
    /// was in flight is failed or rolled back and its task made ready again - removes the run's leftover worktrees,
    /// and dispatches what remains with the definitions recorded when the run started. Nothing is applied twice.
    /// </summary>
    public async Task<RunSummary> ResumeAsync(string runId, RunOptions options, CancellationToken stopping)
    {
        var none = CancellationToken.None;
        var definitions = await store.RunWorkstreamsAsync(runId, none).ConfigureAwait(false);
        if (definitions.Count == 0)
        {
            throw StateException.NotFound(EntityKind.Run, runId);
        }

        var workstreams = definitions.Select(d => JsonSerializer.Deserialize<Workstream>(d.Definition)!).ToArray();
        var adapters = new AdapterRegistry(config);
        var plan = Planner.Create(workstreams, new PlanOptions(options.Workers, config.Execution.DefaultEstimate));
        var branch = config.Integration.Branch.Replace("{run_id}", runId, StringComparison.Ordinal);
        var baseCommit = await GitRepository.ResolveAsync(repository, branch, none).ConfigureAwait(false);
        await RunLock.AcquireAsync(store, runId, clock, options.EffectiveLease, none).ConfigureAwait(false);
        var current = await store.ListRunsAsync(int.MaxValue, none).ConfigureAwait(false);
        if (current.FirstOrDefault(r => r.RunId == runId)?.State != StateMachines.Run.Running)
        {
            // Another process finished it between our look and the lock.
            await RunLock.ReleaseAsync(store, runId, none).ConfigureAwait(false);
            throw StateException.NotFound(EntityKind.Run, runId + " (as an unfinished run)");
        }
        return await ExecuteAsync(
            runId,
            branch,
            baseCommit,
            workstreams,
            plan,
            options,
            adapters,
            stopping,
            async () =>
            {
                await Cleaner.CleanRunAsync(repository, config.Isolation.WorktreeDir, runId, none).ConfigureAwait(false);
                await ReconcileAsync(runId, branch).ConfigureAwait(false);
                return () => Task.CompletedTask;
            },
            async () => (await store.ListTasksAsync(runId, none).ConfigureAwait(false)).ToDictionary(t => t.WorkstreamId, t => t.State, StringComparer.Ordinal)).ConfigureAwait(false);
    }

    /// <summary>
    /// The run <c>uet run</c> should continue instead of starting a new one: <paramref name="preferred"/> if it is
    /// unfinished, else the newest unfinished run, with whether its recorded workstreams are the ones given now. Null
    /// when every run has ended.
    /// </summary>
    public async Task<(string RunId, bool SameWorkstreams)?> FindUnfinishedAsync(IReadOnlyList<Workstream> workstreams, string? preferred, CancellationToken cancellationToken)
    {
        var unfinished = (await store.ListRunsAsync(int.MaxValue, cancellationToken).ConfigureAwait(false))
            .Where(r => r.State == StateMachines.Run.Running)
            .OrderByDescending(r => r.RunId == preferred)
            .FirstOrDefault();
        if (unfinished is null)
        {
            return null;
        }

        // Where a file was read from (its path as typed, lines and columns) is not part of what a workstream asks for.
        static string Key(Workstream ws) => JsonSerializer.Serialize(ws with
        {
            Location = default,
            DependsOn = [.. ws.DependsOn.Select(d => d with { Location = default })],
            Blocks = [.. ws.Blocks.Select(d => d with { Location = default })],
        });
        var recorded = (await store.RunWorkstreamsAsync(unfinished.RunId, cancellationToken).ConfigureAwait(false))
            .Select(d => Key(JsonSerializer.Deserialize<Workstream>(d.Definition)!)).Order(StringComparer.Ordinal);
        return (unfinished.RunId, recorded.SequenceEqual(workstreams.Select(Key).Order(StringComparer.Ordinal)));
    }

    /// <summary>
    /// Gives up an unfinished run (<c>uet run --new</c>): under its run lock (refused while a live process holds it),
    /// its leftover worktrees are removed, whatever was in flight is settled as a resume would (patches on its branch
    /// committed, the rest failed, its workers terminated), and the run becomes 'cancelled'. Its results so far stay
    /// on its branch.
    /// </summary>
    public async Task AbandonAsync(string runId, CancellationToken cancellationToken)
    {
        var none = CancellationToken.None;
        var branch = config.Integration.Branch.Replace("{run_id}", runId, StringComparison.Ordinal);
        await RunLock.AcquireAsync(store, runId, clock, TimeSpan.FromMinutes(1), cancellationToken).ConfigureAwait(false);
        try
        {
            await Cleaner.CleanRunAsync(repository, config.Isolation.WorktreeDir, runId, none).ConfigureAwait(false);
            if ((await GitCli.RunAsync(repository, ["rev-parse", "--verify", "--quiet", "refs/heads/" + branch], none).ConfigureAwait(false)).ExitCode == 0)
            {
                await ReconcileAsync(runId, branch).ConfigureAwait(false);
            }

            await ChangeAsync(EntityKind.Run, runId, StateMachines.Run.Cancelled, "abandoned: a new run was started with uet run --new").ConfigureAwait(false);
        }
        finally
        {
            await RunLock.ReleaseAsync(store, runId, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task ReconcileAsync(string runId, string branch)
    {
        var none = CancellationToken.None;
        // Each integration commit names the exact patch (attempt) it carries: a patch id, unlike a diff hash, cannot match
        // another workstream's identical change, or an earlier run's.
        var log = await GitCli.OutputAsync(repository, ["log", branch, "--format=%(trailers:key=Uet-Attempt,valueonly,separator=%x2C)"], none).ConfigureAwait(false);
        var integrated = log.Split(['\n', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        var committedTasks = (await store.CommittedTasksAsync(runId, none).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        var patches = await store.OpenPatchesAsync(runId, none).ConfigureAwait(false);
        var steps = await store.RunningStepsAsync(runId, none).ConfigureAwait(false);
        var tasks = await store.ListTasksAsync(runId, none).ConfigureAwait(false);
        await using var transaction = await store.BeginAsync(none).ConfigureAwait(false);
        var completedTasks = new HashSet<string>(StringComparer.Ordinal);
        foreach (var patch in patches)
        {
            if (integrated.Contains(patch.PatchId))
            {
                foreach (var to in PathFrom(patch.State, P.Committed))
                {
                    await StateChanger.ChangeAsync(transaction, EntityKind.Patch, patch.PatchId, to, "found on the integration branch after an interruption", none).ConfigureAwait(false);
                }

                completedTasks.Add(patch.TaskId);
                continue;
            }

            var end = patch.State switch
            {
                P.Created => P.Dropped,
                P.Validated or P.Queued => P.ApplyFailed,
                _ => P.RolledBack,
            };
            foreach (var to in PathFrom(patch.State, end))
            {
                await StateChanger.ChangeAsync(transaction, EntityKind.Patch, patch.PatchId, to, "interrupted before it was integrated", none).ConfigureAwait(false);
            }
        }

        completedTasks.UnionWith(committedTasks);
        foreach (var step in steps)
        {
            // The step whose patch made it onto the branch completed; any other was cut short.
            var taskId = step[..step.LastIndexOf(':')];
            var integratedStep = integrated.Contains(step) || completedTasks.Contains(taskId) && (committedTasks.Contains(taskId) || integrated.Contains(step));
            await StateChanger.ChangeAsync(transaction, EntityKind.Step, step,
                integratedStep ? StateMachines.Step.Completed : StateMachines.Step.Failed,
                integratedStep ? "its patch is on the integration branch" : TaskRunner.Interrupted + "uet stopped during this attempt", none).ConfigureAwait(false);
        }

        foreach (var task in tasks.Where(t => t.State == T.Running))
        {
            var to = completedTasks.Contains(task.TaskId) ? T.Completed : T.Ready;
            await StateChanger.ChangeAsync(transaction, EntityKind.Task, task.TaskId, to,
                to == T.Completed ? "its patch is on the integration branch" : "interrupted: runs again", none).ConfigureAwait(false);
        }

        foreach (var worker in (await transaction.WorkersInStatesAsync([StateMachines.Worker.Spawning, StateMachines.Worker.Idle, StateMachines.Worker.Busy, StateMachines.Worker.Draining], none).ConfigureAwait(false))
            .Where(w => w.RunId == runId))
        {
            foreach (var to in worker.State switch
            {
                StateMachines.Worker.Spawning => new[] { StateMachines.Worker.Idle, StateMachines.Worker.Draining, StateMachines.Worker.Terminated },
                StateMachines.Worker.Draining => [StateMachines.Worker.Terminated],
                _ => [StateMachines.Worker.Draining, StateMachines.Worker.Terminated],
            })
            {
                await StateChanger.ChangeAsync(transaction, EntityKind.Worker, worker.WorkerId, to, "its run was interrupted", none).ConfigureAwait(false);
            }
        }

        await transaction.CommitAsync(none).ConfigureAwait(false);
    }

    /// <summary>The legal states from <paramref name="from"/> to <paramref name="to"/> (shortest), excluding <paramref name="from"/>.</summary>
    private static List<string> PathFrom(string from, string to)
    {
        var previous = new Dictionary<string, string> { [from] = from };
        var queue = new Queue<string>([from]);
        while (queue.Count > 0 && !previous.ContainsKey(to))
        {
            var state = queue.Dequeue();
            foreach (var (_, next) in StateMachines.LegalTransitions(EntityKind.Patch).Where(t => t.From == state))
            {
                if (previous.TryAdd(next, state))
                {
                    queue.Enqueue(next);
                }
            }
        }

        var path = new List<string>();
        for (var s = to; previous.ContainsKey(to) && s != from; s = previous[s])
        {
            path.Add(s);
        }

        path.Reverse();
        return path;
    }
}
