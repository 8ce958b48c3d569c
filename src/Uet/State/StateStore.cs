namespace Uet.State;

/// <summary>
/// The storage boundary (Hangfire's JobStorage role): a factory of write transactions plus the reads the
/// commands need. Backends live in their own folders (<c>Sqlite/</c>; PostgreSQL later) and differ only here.
/// </summary>
public abstract class StateStore : IAsyncDisposable
{
    /// <summary>The highest schema version this build knows.</summary>
    public abstract int LatestSchemaVersion { get; }

    /// <summary>Where the data lives, for messages.</summary>
    public abstract string Description { get; }

    /// <summary>Brings the schema to <paramref name="targetVersion"/> (default: latest), each version in its own transaction.</summary>
    public abstract Task MigrateAsync(int? targetVersion, CancellationToken cancellationToken);

    public abstract Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken);

    /// <summary>Starts a write transaction. Everything written through it lands together at <see cref="StoreTransaction.CommitAsync"/>, or not at all.</summary>
    public abstract Task<StoreTransaction> BeginAsync(CancellationToken cancellationToken);

    public abstract Task<IReadOnlyList<RunRecord>> ListRunsAsync(int limit, CancellationToken cancellationToken);

    public abstract Task<IReadOnlyList<WorkerRecord>> ListWorkersAsync(CancellationToken cancellationToken);

    public abstract Task<IReadOnlyDictionary<string, int>> CountTasksByStateAsync(string runId, CancellationToken cancellationToken);

    public abstract Task<IReadOnlyList<TaskRecord>> ListTasksAsync(string runId, CancellationToken cancellationToken);

    /// <summary>The workstream definitions (JSON) a run executes, as recorded when it started.</summary>
    public abstract Task<IReadOnlyList<(string WorkstreamId, string Definition)>> RunWorkstreamsAsync(string runId, CancellationToken cancellationToken);

    /// <summary>The config text a run was started with ('' = the defaults); null when it was not recorded (an older uet).</summary>
    public abstract Task<string?> RunConfigAsync(string runId, CancellationToken cancellationToken);

    public abstract Task<IReadOnlyList<OpenPatch>> OpenPatchesAsync(string runId, CancellationToken cancellationToken);

    public abstract Task<IReadOnlyList<string>> RunningStepsAsync(string runId, CancellationToken cancellationToken);

    /// <summary>The tasks of a run that have a committed patch.</summary>
    public abstract Task<IReadOnlyList<string>> CommittedTasksAsync(string runId, CancellationToken cancellationToken);

    /// <summary>The highest attempt number a task's steps have used (0 for none).</summary>
    public abstract Task<int> LastAttemptAsync(string taskId, CancellationToken cancellationToken);

    /// <summary>
    /// A task's failed attempts, oldest first: why each failed (the reason of its step's 'failed' event) and the
    /// sha256 of the patch it produced, if any. What the circuit breaker counts survives a resume this way.
    /// </summary>
    public abstract Task<IReadOnlyList<(int Attempt, string Error, string? PatchSha256)>> FailedAttemptsAsync(string taskId, CancellationToken cancellationToken);

    /// <summary>What the tools of all a task's attempts spent, added up (<see cref="ToolUsage.None"/> when none said).</summary>
    public abstract Task<ToolUsage> TaskUsageAsync(string taskId, CancellationToken cancellationToken);

    public abstract Task<IReadOnlyList<StateEvent>> ReadEventsAsync(EventQuery query, CancellationToken cancellationToken);

    public abstract Task<RunLockRecord?> GetRunLockAsync(CancellationToken cancellationToken);

    /// <summary>One run, or null when there is no such run.</summary>
    public abstract Task<RunRecord?> GetRunAsync(string runId, CancellationToken cancellationToken);

    /// <summary>The tasks of a run with their timings, attempts and workers (ordered by workstream id).</summary>
    public abstract Task<IReadOnlyList<TaskDetail>> ListTaskDetailsAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Every attempt (step) of a run's tasks, ordered by task and attempt.</summary>
    public abstract Task<IReadOnlyList<StepRecord>> ListStepsAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Every patch of a run, in any state, ordered by patch id.</summary>
    public abstract Task<IReadOnlyList<PatchRecord>> ListPatchesAsync(string runId, CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();
}

/// <summary>
/// One write transaction. The state columns are written only by <see cref="StateChanger"/>; the rest of the
/// engine creates entities (in their initial state, with a 'created' event) and reads through it.
/// </summary>
public abstract class StoreTransaction : IAsyncDisposable
{
    public abstract TimeProvider Clock { get; }

    /// <summary>Inserts an entity row in its machine's initial state (only <see cref="StateChanger"/> calls this).</summary>
    internal abstract Task InsertAsync(NewEntity entity, string initialState, DateTimeOffset at, CancellationToken cancellationToken);

    public abstract Task<EntityState?> GetStateAsync(EntityKind kind, string id, CancellationToken cancellationToken);

    /// <summary>
    /// Moves one row from <paramref name="from"/> to <paramref name="to"/>; null when its state was not
    /// <paramref name="from"/> (or it does not exist), else the row's run (null for a worker outside a run).
    /// </summary>
    internal abstract Task<EntityState?> WriteStateAsync(EntityKind kind, string id, string from, string to, DateTimeOffset at, CancellationToken cancellationToken);

    internal abstract Task AppendEventAsync(StateEvent stateEvent, CancellationToken cancellationToken);

    public abstract Task<IReadOnlyList<WorkerRecord>> WorkersWithExpiredLeaseAsync(DateTimeOffset now, CancellationToken cancellationToken);

    public abstract Task<IReadOnlyList<WorkerRecord>> WorkersInStatesAsync(IReadOnlyList<string> states, CancellationToken cancellationToken);

    /// <summary>Renews a live worker's lease; returns 0 when the worker is not live (terminated, or unknown).</summary>
    public abstract Task<int> SetWorkerLeaseAsync(string workerId, DateTimeOffset heartbeat, DateTimeOffset leaseExpires, CancellationToken cancellationToken);

    /// <summary>Records which worker holds a task; false when there is no such task.</summary>
    public abstract Task<bool> SetTaskWorkerAsync(string taskId, string? workerId, CancellationToken cancellationToken);

    public abstract Task<string?> TaskWorkerAsync(string taskId, CancellationToken cancellationToken);

    public abstract Task SetWorkerTaskAsync(string workerId, string? taskId, CancellationToken cancellationToken);

    public abstract Task<string?> RunningStepOfTaskAsync(string taskId, CancellationToken cancellationToken);

    /// <summary>Records which tool an attempt ran and what it spent (not a state change: no event).</summary>
    public abstract Task SetStepUsageAsync(string stepId, string tool, ToolUsage usage, CancellationToken cancellationToken);

    public abstract Task<RunLockRecord?> GetRunLockAsync(CancellationToken cancellationToken);

    /// <summary>Records the definition a run executes for a workstream (JSON), so a resume never re-reads changed files.</summary>
    public abstract Task AddRunWorkstreamAsync(string runId, string workstreamId, string definition, CancellationToken cancellationToken);

    public abstract Task WriteRunLockAsync(RunLockRecord? lockRecord, CancellationToken cancellationToken);

    /// <summary>
    /// Makes everything written through this transaction durable, and returns only then. A store may commit several
    /// transactions together (SQLite: group commit), so: a failure of that shared commit fails each of them; a commit may
    /// wait for the next writer's transaction to end, so a transaction's body must never wait for another flow's
    /// work; and a later transaction of the group may read an earlier one's changes before they are durable, so no
    /// side effect outside the store may depend on what a transaction reads.
    /// </summary>
    public abstract Task CommitAsync(CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();
}

/// <summary>An entity's current state and the run it belongs to (null for a worker outside a run).</summary>
public readonly record struct EntityState(string State, string? RunId);

/// <summary>A new run, task, step, worker or patch. <see cref="Columns"/> are extra column values (names are the schema's).</summary>
public sealed record NewEntity(EntityKind Kind, string Id, string? RunId, IReadOnlyDictionary<string, object?> Columns);
