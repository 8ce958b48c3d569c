using System.Text.Json;
using Uet.Planning;
using Uet.State;
using Uet.Workstreams;

namespace Uet.Reporting;

/// <summary>
/// Builds an <see cref="ExecutionReport"/> from what the store holds for one run: the run, its tasks, steps, patches,
/// workers and events, and the plan made again from the workstream definitions recorded when the run started.
/// Nothing is measured here: every duration is a stored one, so the report says what the store says.
/// </summary>
public static class ReportBuilder
{
    private const int EventPage = 10_000;

    /// <summary>The report of <paramref name="runId"/>; <paramref name="defaultEstimate"/> is the estimate of a workstream that gave none (execution.default_estimate_minutes).</summary>
    public static async Task<ExecutionReport> BuildAsync(StateStore store, string runId, TimeSpan defaultEstimate, TimeProvider clock, CancellationToken cancellationToken)
    {
        var run = await store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false) ?? throw StateException.NotFound(EntityKind.Run, runId);
        var definitions = await store.RunWorkstreamsAsync(runId, cancellationToken).ConfigureAwait(false);
        var tasks = await store.ListTaskDetailsAsync(runId, cancellationToken).ConfigureAwait(false);
        var steps = await store.ListStepsAsync(runId, cancellationToken).ConfigureAwait(false);
        var patches = await store.ListPatchesAsync(runId, cancellationToken).ConfigureAwait(false);
        var workers = (await store.ListWorkersAsync(cancellationToken).ConfigureAwait(false)).Where(w => w.RunId == runId).ToList();
        var events = await ReadAllEventsAsync(store, runId, cancellationToken).ConfigureAwait(false);
        return Build(run, definitions, tasks, steps, patches, workers, events, defaultEstimate, clock.GetUtcNow());
    }

    private static async Task<IReadOnlyList<StateEvent>> ReadAllEventsAsync(StateStore store, string runId, CancellationToken cancellationToken)
    {
        var all = new List<StateEvent>();
        while (true)
        {
            var page = await store.ReadEventsAsync(new EventQuery(RunId: runId, AfterEventId: all.Count == 0 ? 0 : all[^1].EventId, Limit: EventPage), cancellationToken).ConfigureAwait(false);
            all.AddRange(page);
            if (page.Count < EventPage)
            {
                return all;
            }
        }
    }

    internal static ExecutionReport Build(
        RunRecord run,
        IReadOnlyList<(string WorkstreamId, string Definition)> definitions,
        IReadOnlyList<TaskDetail> tasks,
        IReadOnlyList<StepRecord> steps,
        IReadOnlyList<PatchRecord> patches,
        IReadOnlyList<WorkerRecord> workers,
        IReadOnlyList<StateEvent> events,
        TimeSpan defaultEstimate,
        DateTimeOffset now)
    {
        var workstreams = definitions.Select(d => JsonSerializer.Deserialize<Workstream>(d.Definition)!).ToArray();
        var workerCount = MostAtOnce(workers);
        var plan = Planner.Create(workstreams, new PlanOptions(workerCount, defaultEstimate));
        var taskById = tasks.ToDictionary(t => t.WorkstreamId, StringComparer.Ordinal);
        var durations = workstreams.ToDictionary(w => w.Id, w => taskById.GetValueOrDefault(w.Id)?.DurationMs ?? 0, StringComparer.Ordinal);
        // The same plan with the measured durations: what a wave-by-wave scheduler would have taken, and the real critical path.
        var replay = Planner.Create(
            workstreams.Select(w => w with { Estimate = TimeSpan.FromMilliseconds(durations[w.Id]) }).ToArray(),
            new PlanOptions(workerCount, defaultEstimate));

        var reasons = LastReasons(events);
        var start = run.StartedAt ?? run.CreatedAt;
        var lastEvent = events.Count == 0 ? start : events[^1].At;
        var wallMs = run.DurationMs ?? Math.Max(0, (long)(lastEvent - start).TotalMilliseconds);
        var stepWorker = events
            .Where(e => e.Entity == EntityKind.Step && e.ToState == StateMachines.Step.Running && Reason(e) is { } r && r.StartsWith("worker ", StringComparison.Ordinal))
            .GroupBy(e => e.EntityId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => Reason(g.Last())!["worker ".Length..].Split(' ')[0], StringComparer.Ordinal);
        var taskWorkstream = tasks.ToDictionary(t => t.TaskId, t => t.WorkstreamId, StringComparer.Ordinal);
        var taskWorker = tasks.ToDictionary(t => t.TaskId, t => t.WorkerId, StringComparer.Ordinal);
        string? WorkerOf(StepRecord s) => stepWorker.GetValueOrDefault(s.StepId) ?? taskWorker.GetValueOrDefault(s.TaskId);

        var lastPatch = patches.GroupBy(p => p.TaskId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.MaxBy(p => p.CreatedAt)!, StringComparer.Ordinal);
        var planned = plan.Workstreams.ToDictionary(p => p.Id, StringComparer.Ordinal);
        var spendByTask = steps.GroupBy(s => s.TaskId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Aggregate(ToolUsage.None, (sum, s) => s.Usage is null ? sum : sum.Add(s.Usage)), StringComparer.Ordinal);
        var rows = plan.Workstreams.OrderBy(p => p.Wave).ThenBy(p => p.Rank).Select(p =>
        {
            var task = taskById.GetValueOrDefault(p.Id);
            var patch = task is null ? null : lastPatch.GetValueOrDefault(task.TaskId);
            var patchReason = patch is null ? null : reasons.GetValueOrDefault((EntityKind.Patch, patch.PatchId, patch.State));
            var failed = task?.State is StateMachines.Task.Failed or StateMachines.Task.Blocked;
            return new WorkstreamRow(
                p.Id,
                p.Wave,
                task?.State ?? "unknown",
                task?.Attempts ?? 0,
                task?.DurationMs,
                (long)p.Estimate.TotalMilliseconds,
                task?.WorkerId,
                task?.StartedAt,
                task?.CompletedAt,
                patch?.State,
                patch?.Sha256,
                patch?.Files ?? [],
                patch?.LinesAdded,
                patch?.LinesRemoved,
                patch?.State == StateMachines.Patch.Committed && patchReason is { } c && c.StartsWith("commit ", StringComparison.Ordinal) ? c["commit ".Length..] : null,
                ValidatorsOf(patch, patchReason, patch is null ? null : reasons.GetValueOrDefault((EntityKind.Patch, patch.PatchId, StateMachines.Patch.Verified))),
                failed ? reasons.GetValueOrDefault((EntityKind.Task, task!.TaskId, task.State)) : null)
            {
                Spend = task is null ? ToolUsage.None : spendByTask.GetValueOrDefault(task.TaskId, ToolUsage.None),
            };
        }).ToList();

        var lanes = steps.Where(s => s.StartedAt is not null)
            .GroupBy(s => WorkerOf(s) ?? "unknown", StringComparer.Ordinal)
            .OrderBy(g => g.Min(s => s.StartedAt)).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new GanttLane(g.Key, g.OrderBy(s => s.StartedAt).Select(s =>
            {
                var from = Math.Max(0, (long)(s.StartedAt!.Value - start).TotalMilliseconds);
                var to = s.CompletedAt is { } end ? Math.Max(from, (long)(end - start).TotalMilliseconds) : Math.Max(from, wallMs);
                return new GanttBar(taskWorkstream.GetValueOrDefault(s.TaskId, s.TaskId), s.Attempt, s.CompletedAt is null ? "running" : s.State, from, to);
            }).ToList()))
            .ToList();

        var lastAttempt = steps.GroupBy(s => s.TaskId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Max(s => s.Attempt), StringComparer.Ordinal);
        var retries = steps
            .Where(s => s.State == StateMachines.Step.Failed && s.Attempt < lastAttempt[s.TaskId])
            .Select(s => new Incident(taskWorkstream.GetValueOrDefault(s.TaskId, s.TaskId), s.Attempt, reasons.GetValueOrDefault((EntityKind.Step, s.StepId, s.State)) ?? "failed", s.CompletedAt ?? s.StartedAt ?? start))
            .OrderBy(i => i.At).ToList();
        List<Incident> PatchIncidents(string state) => patches
            .Where(p => p.State == state)
            .Select(p => new Incident(taskWorkstream.GetValueOrDefault(p.TaskId, p.TaskId), AttemptOf(p.PatchId), reasons.GetValueOrDefault((EntityKind.Patch, p.PatchId, state)) ?? state, p.UpdatedAt))
            .OrderBy(i => i.At).ToList();

        var usage = lanes.Select(l =>
        {
            var busy = steps.Where(s => (WorkerOf(s) ?? "unknown") == l.WorkerId).Sum(s => s.DurationMs ?? 0);
            return new WorkerUsage(l.WorkerId, l.Bars.Count, busy, wallMs > 0 ? (double)busy / wallMs : null);
        }).ToList();

        var waves = plan.Waves.Select(w =>
        {
            var members = w.Workstreams.Select(id => taskById.GetValueOrDefault(id)).OfType<TaskDetail>().ToList();
            return new WaveRow(
                w.Number,
                w.Workstreams,
                Counts(members.Select(t => t.State), StateMachines.States(EntityKind.Task)),
                members.Min(t => t.StartedAt),
                members.Max(t => t.CompletedAt),
                w.Workstreams.Max(id => (long)planned[id].Estimate.TotalMilliseconds));
        }).ToList();

        long Actual(IEnumerable<string> ids) => ids.Sum(id => durations.GetValueOrDefault(id));
        long Estimated(IEnumerable<string> ids) => ids.Sum(id => (long)planned[id].Estimate.TotalMilliseconds);
        var critical = new CriticalPathComparison(
            new PathTimes(plan.CriticalPath.Workstreams, Estimated(plan.CriticalPath.Workstreams), Actual(plan.CriticalPath.Workstreams)),
            new PathTimes(replay.CriticalPath.Workstreams, Estimated(replay.CriticalPath.Workstreams), Actual(replay.CriticalPath.Workstreams)));

        return new ExecutionReport(
            run.RunId,
            run.State,
            reasons.GetValueOrDefault((EntityKind.Run, run.RunId, run.State)),
            run.CreatedAt,
            run.StartedAt,
            run.CompletedAt,
            wallMs,
            now,
            workerCount,
            Counts(tasks.Select(t => t.State), StateMachines.States(EntityKind.Task)),
            Counts(patches.Select(p => p.State), StateMachines.States(EntityKind.Patch)),
            new ReportTimes(
                wallMs,
                tasks.Sum(t => t.DurationMs ?? 0),
                (long)replay.Estimates.WaveBarrier.TotalMilliseconds,
                (long)plan.Estimates.Sequential.TotalMilliseconds,
                (long)plan.Estimates.WaveBarrier.TotalMilliseconds,
                (long)plan.Estimates.Dispatch.TotalMilliseconds),
            critical,
            rows,
            waves,
            lanes,
            retries,
            PatchIncidents(StateMachines.Patch.Quarantined),
            PatchIncidents(StateMachines.Patch.RolledBack),
            usage)
        {
            Spend = spendByTask.Values.Aggregate(ToolUsage.None, (sum, u) => sum.Add(u)),
        };
    }

    /// <summary>The most workers the run had alive at the same time (a resume spawns new ones after the old ones ended).</summary>
    private static int MostAtOnce(IReadOnlyList<WorkerRecord> workers)
    {
        var changes = workers.Select(w => (At: w.CreatedAt, Delta: 1))
            .Concat(workers.Where(w => w.TerminatedAt is not null).Select(w => (At: w.TerminatedAt!.Value, Delta: -1)))
            .OrderBy(c => c.At).ThenBy(c => c.Delta);
        int alive = 0, most = 0;
        foreach (var change in changes)
        {
            alive += change.Delta;
            most = Math.Max(most, alive);
        }

        return Math.Max(1, most);
    }

    private static string? ValidatorsOf(PatchRecord? patch, string? reason, string? verified) => patch?.State switch
    {
        null => null,
        StateMachines.Patch.Committed or StateMachines.Patch.Verified => verified ?? "passed",
        StateMachines.Patch.RolledBack => reason ?? "rejected",
        StateMachines.Patch.Quarantined => "not run (quarantined)",
        StateMachines.Patch.Dropped => "not run (no change)",
        StateMachines.Patch.ApplyFailed => "not run (did not apply)",
        _ => "pending",
    };

    private static int AttemptOf(string attemptId) =>
        int.TryParse(attemptId[(attemptId.LastIndexOf(':') + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;

    /// <summary>Counts in the state machine's order, states with none left out.</summary>
    private static List<StateCount> Counts(IEnumerable<string> states, IReadOnlyList<string> order)
    {
        var counts = states.GroupBy(s => s, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return order.Where(counts.ContainsKey).Select(s => new StateCount(s, counts[s]))
            .Concat(counts.Keys.Where(k => !order.Contains(k)).Order(StringComparer.Ordinal).Select(k => new StateCount(k, counts[k])))
            .ToList();
    }

    /// <summary>The reason of the latest event that moved each entity into each state.</summary>
    private static Dictionary<(EntityKind, string, string), string> LastReasons(IReadOnlyList<StateEvent> events)
    {
        var reasons = new Dictionary<(EntityKind, string, string), string>();
        foreach (var e in events)
        {
            if (e.ToState is { } to && Reason(e) is { } reason)
            {
                reasons[(e.Entity, e.EntityId, to)] = reason;
            }
        }

        return reasons;
    }

    private static string? Reason(StateEvent e)
    {
        if (e.Data is null)
        {
            return null;
        }

        using var data = JsonDocument.Parse(e.Data);
        return data.RootElement.ValueKind == JsonValueKind.Object && data.RootElement.TryGetProperty("reason", out var reason) && reason.ValueKind == JsonValueKind.String
            ? reason.GetString()
            : null;
    }
}
