using Uet.Planning;
using Uet.State;
using Uet.Workstreams;
using T = Uet.State.StateMachines.Task;

namespace Uet.Execution;

public sealed partial class RunExecutor
{
    /// <summary>
    /// Eager dispatch, no barrier between waves: whenever a worker is free, the ready task of best rank (longest
    /// remaining path, then priority) that may start now starts. A conflict group runs one task at a time; a task
    /// with parallel_ok=false runs alone, and while it waits for the pool to drain only tasks expected to end before
    /// the drain may start (the same policy the planner simulates). A failed or quarantined task blocks its dependents,
    /// transitively; independent work goes on.
    /// </summary>
    private async Task<IReadOnlyList<TaskOutcome>> DispatchAsync(
        RunContext context,
        IReadOnlyList<Workstream> workstreams,
        Plan plan,
        IReadOnlyList<string> workers,
        IReadOnlyDictionary<string, string>? prior,
        CancellationToken stopping)
    {
        var none = CancellationToken.None;
        var byId = workstreams.ToDictionary(w => w.Id, StringComparer.Ordinal);
        var planned = plan.Workstreams.ToDictionary(p => p.Id, StringComparer.Ordinal);
        var dependents = plan.Workstreams.SelectMany(p => p.Prerequisites.Select(pre => (pre, p.Id)))
            .ToLookup(x => x.pre, x => x.Id, StringComparer.Ordinal);
        var waiting = plan.Workstreams.ToDictionary(p => p.Id, p => p.Prerequisites.Count, StringComparer.Ordinal);
        var outcomes = new Dictionary<string, TaskOutcome>(StringComparer.Ordinal);
        var ready = new PriorityQueue<string, int>();
        var idle = new Queue<string>(workers);
        var running = new Dictionary<Task<TaskOutcome>, (string Id, string Worker, DateTimeOffset ExpectedEnd)>();
        var busyGroups = new HashSet<string>(StringComparer.Ordinal);
        var aloneRunning = false;
        var failFastTripped = false;

        using var abort = new CancellationTokenSource();
        await using var graceful = stopping.Register(() => abort.CancelAfter(context.Options.EffectiveDrainGrace));

        // All the tasks one completion (or the start) makes ready, in one transaction.
        async Task MakeReady(IReadOnlyList<string> ids)
        {
            if (ids.Count == 0)
            {
                return;
            }

            await context.TransactAsync(async (transaction, _) =>
            {
                foreach (var id in ids)
                {
                    await context.ChangeInAsync(transaction, EntityKind.Task, RunContext.TaskId(context.RunId, id), T.Ready, "dependencies done").ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
            foreach (var id in ids)
            {
                ready.Enqueue(id, planned[id].Rank);
            }
        }

        if (prior is null)
        {
            await MakeReady(plan.Workstreams.Where(p => p.Prerequisites.Count == 0).OrderBy(p => p.Rank).Select(p => p.Id).ToList()).ConfigureAwait(false);
        }
        else
        {
            // Resuming: what ended stays as it ended; what was ready is ready again; pending tasks whose dependencies
            // are all done become ready now.
            foreach (var (id, state) in prior)
            {
                TaskResult? ended = state switch
                {
                    T.Completed => TaskResult.Completed,
                    T.Failed => TaskResult.Failed,
                    T.Blocked => TaskResult.Blocked,
                    _ => null,
                };
                if (ended is { } result)
                {
                    outcomes[id] = new TaskOutcome(id, result, 0, "before the resume", null);
                    if (result == TaskResult.Completed)
                    {
                        foreach (var dependent in dependents[id])
                        {
                            waiting[dependent]--;
                        }
                    }
                }
            }

            foreach (var p in plan.Workstreams.OrderBy(p => p.Rank).Where(p => !outcomes.ContainsKey(p.Id) && prior.GetValueOrDefault(p.Id) == T.Ready))
            {
                ready.Enqueue(p.Id, p.Rank);
            }

            // A crash between a failure and the blocking of its dependents: block them now.
            foreach (var failed in prior.Where(p => p.Value == T.Failed).Select(p => p.Key).ToList())
            {
                await BlockDependentsAsync(context, failed, dependents, outcomes, prior).ConfigureAwait(false);
            }

            await MakeReady(plan.Workstreams.OrderBy(p => p.Rank)
                .Where(p => !outcomes.ContainsKey(p.Id) && prior.GetValueOrDefault(p.Id) == T.Pending && waiting[p.Id] == 0)
                .Select(p => p.Id).ToList()).ConfigureAwait(false);
        }

        // From here on, a completion makes its dependents ready in its own transaction (one commit for both); the
        // counts are shared with the tasks' flows, so they are changed under a lock.
        var waitingGate = new Lock();
        context.Completing = async (transaction, completed) =>
        {
            List<string> nowReady = [];
            lock (waitingGate)
            {
                foreach (var dependent in dependents[completed])
                {
                    if (--waiting[dependent] == 0)
                    {
                        nowReady.Add(dependent);
                    }
                }
            }

            foreach (var id in nowReady)
            {
                // A dependent waits in PENDING: one guarded write; anything else takes the general path (and its errors).
                var taskId = RunContext.TaskId(context.RunId, id);
                if (await StateChanger.TryChangeAsync(transaction, EntityKind.Task, taskId, T.Pending, T.Ready, "dependencies done", CancellationToken.None).ConfigureAwait(false) is null)
                {
                    await context.ChangeInAsync(transaction, EntityKind.Task, taskId, T.Ready, "dependencies done").ConfigureAwait(false);
                }
            }

            return nowReady;
        };

        // Completions still being made durable (their workers and dependents went on): each is checked as the run goes,
        // and all are awaited before it ends; one that fails stops the run as a task that broke would.
        var unrecorded = new List<Task>();
        async Task StopBroken()
        {
            await abort.CancelAsync().ConfigureAwait(false);
            await ((Task)Task.WhenAll(running.Keys)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await ((Task)Task.WhenAll(unrecorded)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        var total = workstreams.Count;
        // Counted as they come: counting the outcomes at each completion made a run quadratic in its tasks.
        var finishedCount = outcomes.Count(o => o.Value.Result != TaskResult.Blocked);
        while (true)
        {
            if (!stopping.IsCancellationRequested && !failFastTripped)
            {
                while (idle.Count > 0 && !aloneRunning && NextStartable(ready, byId, busyGroups, running, planned) is { } next)
                {
                    var ws = byId[next];
                    var worker = idle.Dequeue();
                    if (ws.ConflictGroup is { } group)
                    {
                        busyGroups.Add(group);
                    }

                    aloneRunning |= !ws.ParallelOk;
                    // The worker is marked busy by the task's first transaction, together with the task itself.
                    var task = new TaskRunner(context, ws, worker).RunAsync(stopping, abort.Token);
                    running[task] = (next, worker, clock.GetUtcNow() + planned[next].Estimate);
                }
            }

            if (running.Count == 0)
            {
                break;
            }

            var finished = await Task.WhenAny(running.Keys).ConfigureAwait(false);
            var (id, freed, _) = running[finished];
            running.Remove(finished);
            TaskOutcome outcome;
            try
            {
                outcome = await finished.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A task broke in a way it could not record (the store failing, a bug): stop everything in order -
                // kill what runs, let each task record how it ended - then let the run fail with this error.
                await StopBroken().ConfigureAwait(false);
                throw;
            }

            unrecorded.RemoveAll(r => r.IsCompletedSuccessfully);
            unrecorded.Add(outcome.Recorded);
            if (unrecorded.Find(r => r.IsFaulted || r.IsCanceled) is { } failed)
            {
                await StopBroken().ConfigureAwait(false);
                await failed.ConfigureAwait(false); // throws its QueueFailure
            }

            if (byId[id].ConflictGroup is { } released)
            {
                busyGroups.Remove(released);
            }

            aloneRunning &= byId[id].ParallelOk;
            if (outcome.WorkerReusable)
            {
                idle.Enqueue(freed); // released (IDLE) by the task's last transaction
            }
            else
            {
                report(new RunProgress("warning", id, $"worker {freed} was drained or terminated; {idle.Count + running.Count} workers left", 0, 0));
            }

            if (outcome.Result == TaskResult.NotStarted)
            {
                // Its worker was gone before it began: nothing was written, it is still ready for another worker.
                ready.Enqueue(id, planned[id].Rank);
                if (idle.Count == 0 && running.Count == 0)
                {
                    break; // no worker left at all
                }

                continue;
            }

            outcomes[id] = outcome;
            finishedCount++;
            if (outcome.Result == TaskResult.Completed)
            {
                // Marked ready in the completion's own transaction (context.Completing).
                foreach (var dependent in outcome.NowReady)
                {
                    ready.Enqueue(dependent, planned[dependent].Rank);
                }
            }
            else if (outcome.Result is TaskResult.Failed or TaskResult.Quarantined or TaskResult.RolledBack)
            {
                await BlockDependentsAsync(context, id, dependents, outcomes).ConfigureAwait(false);
                failFastTripped |= context.Options.FailFast;
            }

            if (idle.Count == 0 && running.Count == 0)
            {
                report(new RunProgress("warning", id, "every worker was drained or terminated: no task can start any more", 0, 0));
                break;
            }

            report(new RunProgress("progress", id, $"{finishedCount} of {total} finished", outcomes.Count, total));
        }

        try
        {
            await Task.WhenAll(unrecorded).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await StopBroken().ConfigureAwait(false);
            throw;
        }

        // What never started: still pending or ready (resume picks them up), unless already blocked.
        foreach (var ws in workstreams.Where(w => !outcomes.ContainsKey(w.Id)))
        {
            outcomes[ws.Id] = new TaskOutcome(ws.Id, TaskResult.NotStarted, 0, stopping.IsCancellationRequested ? "run stopped" : "fail-fast", null);
        }

        return workstreams.Select(w => outcomes[w.Id]).ToArray();
    }

    private async Task BlockDependentsAsync(RunContext context, string failed, ILookup<string, string> dependents, Dictionary<string, TaskOutcome> outcomes, IReadOnlyDictionary<string, string>? prior = null)
    {
        var queue = new Queue<(string Id, string Cause)>(dependents[failed].Select(d => (d, failed)));
        while (queue.Count > 0)
        {
            var (id, cause) = queue.Dequeue();
            if (outcomes.ContainsKey(id))
            {
                continue;
            }

            var reason = cause == failed ? $"dependency {failed} failed" : $"dependency {cause} is blocked (because {failed} failed)";
            if (prior is not null && prior.GetValueOrDefault(id) is { } was && was != T.Pending)
            {
                continue; // resuming: only a task still pending can be blocked; anything else has its own state already
            }

            await context.ChangeAsync(EntityKind.Task, RunContext.TaskId(context.RunId, id), T.Blocked, reason).ConfigureAwait(false);
            outcomes[id] = new TaskOutcome(id, TaskResult.Blocked, 0, reason, null);
            report(new RunProgress("blocked", id, reason, 0, 0));
            foreach (var next in dependents[id])
            {
                queue.Enqueue((next, id));
            }
        }
    }

    /// <summary>The best-ranked ready task allowed to start now, taken out of the queue; null when none may.</summary>
    private string? NextStartable(
        PriorityQueue<string, int> ready,
        Dictionary<string, Workstream> byId,
        HashSet<string> busyGroups,
        Dictionary<Task<TaskOutcome>, (string Id, string Worker, DateTimeOffset ExpectedEnd)> running,
        Dictionary<string, PlannedWorkstream> planned)
    {
        var skipped = new List<(string, int)>();
        string? chosen = null;
        var drainBy = running.Count == 0 ? (DateTimeOffset?)null : running.Values.Max(r => r.ExpectedEnd);
        var exclusiveWaiting = false;
        while (chosen is null && ready.TryDequeue(out var id, out var rank))
        {
            var ws = byId[id];
            var groupBusy = ws.ConflictGroup is { } g && busyGroups.Contains(g);
            if (!ws.ParallelOk)
            {
                if (running.Count == 0 && !exclusiveWaiting)
                {
                    chosen = id;
                }
                else
                {
                    exclusiveWaiting = true;
                    skipped.Add((id, rank));
                }
            }
            else if (groupBusy || (exclusiveWaiting && drainBy is { } by && clock.GetUtcNow() + planned[id].Estimate > by))
            {
                skipped.Add((id, rank));
            }
            else
            {
                chosen = id;
            }
        }

        foreach (var (id, rank) in skipped)
        {
            ready.Enqueue(id, rank);
        }

        return chosen;
    }
}
