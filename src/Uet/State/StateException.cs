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

    public static StateException NoDatabase(string path) =>
        new($"there is no state database at {path}. Run 'uet init' first.", 2);

    public static StateException NewerSchema(string database, int found, int supported) =>
        new($"the state database {database} has schema version {found}, newer than this uet understands ({supported}). Upgrade uet.", 1);

    public static StateException RunAlreadyActive(RunLockRecord live) =>
        new($"run {live.RunId} is live on this state database (pid {live.OwnerPid} on {live.OwnerHost}, since {live.AcquiredAt:u}, "
            + $"last heartbeat {live.HeartbeatAt:u}). Wait for it, stop it, or let its lease expire at {live.LeaseExpiresAt:u}.", 1);
}
