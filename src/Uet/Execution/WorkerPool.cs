using System.Globalization;
using Uet.State;
using W = Uet.State.StateMachines.Worker;

namespace Uet.Execution;

/// <summary>A worker that was found dead (lease expired) and what was done about it.</summary>
public sealed record ExpiredWorker(string WorkerId, DateTimeOffset? LastHeartbeat, string? RequeuedTaskId);

/// <summary>
/// The workers of a state database: spawned (SPAWNING -> IDLE), kept alive by heartbeats that extend a lease,
/// found dead when the lease runs out (their task goes back to ready), drained (DRAINING -> TERMINATED).
/// Every change goes through <see cref="StateChanger"/>; every clock reading through <see cref="TimeProvider"/>.
/// </summary>
public sealed class WorkerPool(StateStore store, TimeProvider clock, TimeSpan lease)
{
    public TimeSpan Lease { get; } = lease > TimeSpan.Zero ? lease : throw new ArgumentOutOfRangeException(nameof(lease), "a lease must be positive");

    public async Task<IReadOnlyList<string>> SpawnAsync(int count, string? runId, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var ids = Enumerable.Range(0, count).Select(_ => "w-" + Guid.NewGuid().ToString("N")[..10]).ToArray();
        await using var transaction = await store.BeginAsync(cancellationToken).ConfigureAwait(false);
        var now = clock.GetUtcNow();
        foreach (var id in ids)
        {
            await StateChanger.CreateAsync(transaction, new NewEntity(EntityKind.Worker, id, runId, new Dictionary<string, object?>
            {
                ["host"] = Environment.MachineName,
                ["pid"] = Environment.ProcessId,
                ["heartbeat_at"] = now,
                ["lease_expires_at"] = now + Lease,
            }), cancellationToken).ConfigureAwait(false);
            await StateChanger.ChangeAsync(transaction, EntityKind.Worker, id, W.Idle, "spawned", cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return ids;
    }

    /// <summary>The worker is alive: its lease now runs until now + <see cref="Lease"/>.</summary>
    public async Task HeartbeatAsync(string workerId, CancellationToken cancellationToken)
    {
        await using var transaction = await store.BeginAsync(cancellationToken).ConfigureAwait(false);
        var now = clock.GetUtcNow();
        if (await transaction.SetWorkerLeaseAsync(workerId, now, now + Lease, cancellationToken).ConfigureAwait(false) == 0)
        {
            throw StateException.WorkerNotLive(workerId);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>IDLE -> BUSY on a task; the task records its worker, so only this worker's death can requeue it.</summary>
    public async Task AssignAsync(string workerId, string taskId, CancellationToken cancellationToken)
    {
        await using var transaction = await store.BeginAsync(cancellationToken).ConfigureAwait(false);
        await AssignAsync(transaction, workerId, taskId, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary><see cref="AssignAsync(string, string, CancellationToken)"/> inside the caller's transaction.</summary>
    public static async Task AssignAsync(StoreTransaction transaction, string workerId, string taskId, CancellationToken cancellationToken)
    {
        await StateChanger.ChangeAsync(transaction, EntityKind.Worker, workerId, W.Busy, "task " + taskId, cancellationToken).ConfigureAwait(false);
        if (!await transaction.SetTaskWorkerAsync(taskId, workerId, cancellationToken).ConfigureAwait(false))
        {
            throw StateException.NotFound(EntityKind.Task, taskId);
        }

        await transaction.SetWorkerTaskAsync(workerId, taskId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The worker's task ended: BUSY -> IDLE, or DRAINING -> TERMINATED when a drain was asked for meanwhile.</summary>
    public async Task ReleaseAsync(string workerId, CancellationToken cancellationToken)
    {
        await using var transaction = await store.BeginAsync(cancellationToken).ConfigureAwait(false);
        await ReleaseAsync(transaction, workerId, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary><see cref="ReleaseAsync(string, CancellationToken)"/> inside the caller's transaction.</summary>
    /// <returns>The worker's state now: IDLE when it can take another task.</returns>
    public static async Task<string> ReleaseAsync(StoreTransaction transaction, string workerId, CancellationToken cancellationToken)
    {
        // The usual case, BUSY -> IDLE, in one guarded write (the IDLE state's write also clears its current task).
        if (await StateChanger.TryChangeAsync(transaction, EntityKind.Worker, workerId, W.Busy, W.Idle, "task ended", cancellationToken).ConfigureAwait(false) is not null)
        {
            return W.Idle;
        }

        var state = await transaction.GetStateAsync(EntityKind.Worker, workerId, cancellationToken).ConfigureAwait(false)
            ?? throw StateException.NotFound(EntityKind.Worker, workerId);
        if (state.State is W.Terminated or W.Idle)
        {
            // Already ended (its lease expired and it was terminated) or released: nothing to undo, nothing to redo.
            return state.State;
        }

        var to = state.State == W.Draining ? W.Terminated : W.Idle;
        await StateChanger.ChangeAsync(transaction, EntityKind.Worker, workerId, to, "task ended", cancellationToken).ConfigureAwait(false);
        return to;
    }

    /// <summary>
    /// Stops taking work: IDLE workers end now (IDLE -> DRAINING -> TERMINATED); BUSY ones become DRAINING and end
    /// when their task does. Returns how many workers were asked to drain.
    /// </summary>
    public async Task<int> DrainAsync(CancellationToken cancellationToken)
    {
        await using var transaction = await store.BeginAsync(cancellationToken).ConfigureAwait(false);
        var workers = await transaction.WorkersInStatesAsync([W.Idle, W.Busy], cancellationToken).ConfigureAwait(false);
        foreach (var worker in workers)
        {
            await StateChanger.ChangeAsync(transaction, EntityKind.Worker, worker.WorkerId, W.Draining, "drain requested", cancellationToken).ConfigureAwait(false);
            if (worker.State == W.Idle)
            {
                await StateChanger.ChangeAsync(transaction, EntityKind.Worker, worker.WorkerId, W.Terminated, "drained", cancellationToken).ConfigureAwait(false);
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return workers.Count;
    }

    /// <summary>
    /// Finds workers whose last heartbeat is older than their lease: they are dead. Each is terminated, and the task
    /// it held goes back to ready (its running step fails), so another worker takes it. One transaction for all.
    /// </summary>
    public async Task<IReadOnlyList<ExpiredWorker>> ExpireLeasesAsync(CancellationToken cancellationToken)
    {
        await using var transaction = await store.BeginAsync(cancellationToken).ConfigureAwait(false);
        var now = clock.GetUtcNow();
        var dead = await transaction.WorkersWithExpiredLeaseAsync(now, cancellationToken).ConfigureAwait(false);
        var expired = new List<ExpiredWorker>(dead.Count);
        foreach (var worker in dead)
        {
            var why = "lease expired: last heartbeat " + (worker.HeartbeatAt?.ToString("u", CultureInfo.InvariantCulture) ?? "never");
            string? requeued = null;
            // Requeue only a task still running on this very worker: a retried task may be on another, live worker now.
            if (worker.CurrentTaskId is { } taskId
                && await transaction.TaskWorkerAsync(taskId, cancellationToken).ConfigureAwait(false) == worker.WorkerId
                && await transaction.GetStateAsync(EntityKind.Task, taskId, cancellationToken).ConfigureAwait(false) is { State: StateMachines.Task.Running })
            {
                if (await transaction.RunningStepOfTaskAsync(taskId, cancellationToken).ConfigureAwait(false) is { } stepId)
                {
                    await StateChanger.ChangeAsync(transaction, EntityKind.Step, stepId, StateMachines.Step.Failed, $"worker {worker.WorkerId} {why}", cancellationToken).ConfigureAwait(false);
                }

                await StateChanger.ChangeAsync(transaction, EntityKind.Task, taskId, StateMachines.Task.Ready, $"worker {worker.WorkerId} {why}", cancellationToken).ConfigureAwait(false);
                requeued = taskId;
            }

            if (worker.State != W.Draining)
            {
                await StateChanger.ChangeAsync(transaction, EntityKind.Worker, worker.WorkerId, W.Draining, why, cancellationToken).ConfigureAwait(false);
            }

            await StateChanger.ChangeAsync(transaction, EntityKind.Worker, worker.WorkerId, W.Terminated, why, cancellationToken).ConfigureAwait(false);
            expired.Add(new ExpiredWorker(worker.WorkerId, worker.HeartbeatAt, requeued));
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return expired;
    }
}
