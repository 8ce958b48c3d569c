namespace Uet.State;

/// <summary>A state change or a store operation that cannot be done; the message says which entity and why.</summary>
public sealed class StateException : UetException
{
    private StateException(string message, int exitCode, Exception? inner = null)
        : base(message, inner)
    {
        ExitCode = exitCode;
    }

    public override int ExitCode { get; }

    public static StateException IllegalTransition(EntityKind kind, string id, string from, string to) =>
        new($"illegal transition of {kind.Name()} {id}: {from} -> {to}. Legal from {from}: "
            + $"{string.Join(", ", StateMachines.LegalTransitions(kind).Where(t => t.From == from).Select(t => t.To).DefaultIfEmpty("nothing (final state)"))}.", 1);

    public static StateException NotFound(EntityKind kind, string id) =>
        new($"no {kind.Name()} '{id}' in the state database.", 1);

    public static StateException ChangedConcurrently(EntityKind kind, string id, string expected) =>
        new($"{kind.Name()} {id} changed while it was being moved from {expected}; nothing was written. Retry.", 1);

    public static StateException Busy(string database, Exception inner) =>
        new($"the state database {database} stayed locked by another uet process for longer than the busy timeout; nothing was written. Retry, or check 'uet status' for a live run.", 1, inner);

    public static StateException WorkerNotLive(string workerId) =>
        new($"worker {workerId} is not live (terminated, or unknown): its lease cannot be renewed, and any task it held has gone back to ready. Stop this worker.", 1);

    public static StateException OldSchema(string database, int found, int latest) =>
        new($"the state database {database} is at schema version {found}; this uet uses {latest}. Run 'uet init' to migrate it.", 2);

    public static StateException Unusable(string database, string problem, Exception inner) =>
        new($"the state database {database} cannot be used: {problem}", 1, inner);

    public static StateException NoDatabase(string path) =>
        new($"there is no state database at {path}. Run 'uet init' first.", 2);

    public static StateException NewerSchema(string database, int found, int supported) =>
        new($"the state database {database} has schema version {found}, newer than this uet understands ({supported}). Upgrade uet.", 1);

    public static StateException NotLockHolder(string runId, RunLockRecord? current) =>
        new(current is null
            ? $"run {runId} does not hold the live-run lock (it was released or taken over after its lease expired)."
            : $"run {runId} does not hold the live-run lock: run {current.RunId} (pid {current.OwnerPid} on {current.OwnerHost}) does.", 1);

    public static StateException RunAlreadyActive(RunLockRecord live) =>
        new($"run {live.RunId} is live on this state database (pid {live.OwnerPid} on {live.OwnerHost}, since {live.AcquiredAt:u}, "
            + $"last heartbeat {live.HeartbeatAt:u}). Wait for it, stop it, or let its lease expire at {live.LeaseExpiresAt:u}.", 1);
}
