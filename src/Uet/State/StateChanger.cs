using System.Text.Json;

namespace Uet.State;

/// <summary>
/// The one writer of state (Hangfire's BackgroundJobStateChanger): checks the transition against
/// <see cref="StateMachines"/>, writes the new state, its timestamps and its event in the caller's transaction.
/// Nothing else writes a <c>state</c> column or an event.
/// </summary>
public static class StateChanger
{
    /// <summary>Creates an entity in its initial state and records a '&lt;kind&gt;.created' event.</summary>
    public static async Task<StateEvent> CreateAsync(StoreTransaction transaction, NewEntity entity, CancellationToken cancellationToken)
    {
        var now = transaction.Clock.GetUtcNow();
        var initial = StateMachines.InitialState(entity.Kind);
        await transaction.InsertAsync(entity, initial, now, cancellationToken).ConfigureAwait(false);
        FaultInjection.Hit(FaultInjection.AfterStateWritten);
        var runId = entity.Kind == EntityKind.Run ? entity.Id : entity.RunId;
        var created = new StateEvent(0, runId, entity.Kind, entity.Id, $"{entity.Kind.Name()}.created", null, initial, now, null);
        await transaction.AppendEventAsync(created, cancellationToken).ConfigureAwait(false);
        CountTask(entity.Kind, initial);
        return created;
    }

    /// <summary>
    /// Moves an entity from <paramref name="from"/> to <paramref name="to"/> if that is its state: one guarded write, no
    /// read first (for a move with several legal ways in whose usual one the caller knows). Returns null, having written
    /// nothing, when the entity is in another state (or does not exist); the caller then decides, usually with
    /// <see cref="ChangeAsync"/>. Refuses an illegal (from, to) pair.
    /// </summary>
    public static async Task<StateEvent?> TryChangeAsync(
        StoreTransaction transaction,
        EntityKind kind,
        string id,
        string from,
        string to,
        string? reason,
        CancellationToken cancellationToken)
    {
        if (!StateMachines.IsLegal(kind, from, to))
        {
            throw StateException.IllegalTransition(kind, id, from, to);
        }

        var now = transaction.Clock.GetUtcNow();
        var written = await transaction.WriteStateAsync(kind, id, from, to, now, cancellationToken).ConfigureAwait(false);
        return written is null ? null : await WrittenAsync(transaction, kind, id, from, to, reason, written.Value, now, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Moves an entity to <paramref name="to"/>. Refuses (and writes nothing) when the entity does not exist or the
    /// transition is not legal from its current state.
    /// </summary>
    public static async Task<StateEvent> ChangeAsync(
        StoreTransaction transaction,
        EntityKind kind,
        string id,
        string to,
        string? reason,
        CancellationToken cancellationToken)
    {
        var now = transaction.Clock.GetUtcNow();
        string from;
        EntityState? written;
        var froms = StateMachines.LegalFroms(kind, to);
        if (froms.Count == 1)
        {
            // One legal way in: the guarded UPDATE is the check, no read first. Only a refusal reads, for its message.
            from = froms[0];
            written = await transaction.WriteStateAsync(kind, id, from, to, now, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var current = await transaction.GetStateAsync(kind, id, cancellationToken).ConfigureAwait(false)
                ?? throw StateException.NotFound(kind, id);
            from = current.State;
            written = StateMachines.IsLegal(kind, from, to)
                ? await transaction.WriteStateAsync(kind, id, from, to, now, cancellationToken).ConfigureAwait(false)
                : null;
        }

        if (written is null)
        {
            // Nothing was written: say exactly why (no such entity, an illegal move, or a concurrent change).
            var current = await transaction.GetStateAsync(kind, id, cancellationToken).ConfigureAwait(false)
                ?? throw StateException.NotFound(kind, id);
            throw StateMachines.IsLegal(kind, current.State, to)
                ? StateException.ChangedConcurrently(kind, id, from)
                : StateException.IllegalTransition(kind, id, current.State, to);
        }

        return await WrittenAsync(transaction, kind, id, from, to, reason, written.Value, now, cancellationToken).ConfigureAwait(false);
    }

    // The state is written: its event, its count, and its mark on the span in progress.
    private static async Task<StateEvent> WrittenAsync(
        StoreTransaction transaction, EntityKind kind, string id, string from, string to, string? reason, EntityState written, DateTimeOffset now, CancellationToken cancellationToken)
    {
        FaultInjection.Hit(FaultInjection.AfterStateWritten);
        var changed = new StateEvent(
            0,
            written.RunId,
            kind,
            id,
            $"{kind.Name()}.{to.ToLowerInvariant()}",
            from,
            to,
            now,
            reason is null ? null : "{\"reason\":" + JsonSerializer.Serialize(reason) + "}"); // {"reason": ...}, without a dictionary per event
        await transaction.AppendEventAsync(changed, cancellationToken).ConfigureAwait(false);
        CountTask(kind, to);
        // The change as an event of the span in progress (the attempt, the task...), for traces and the JSON lines log.
        System.Diagnostics.Activity.Current?.AddEvent(new System.Diagnostics.ActivityEvent(changed.EventType, tags: new System.Diagnostics.ActivityTagsCollection
        {
            ["entity_id"] = id,
            ["from"] = from,
            ["to"] = to,
            ["reason"] = reason?.Split('\n')[0],
        }));
        return changed;
    }

    // Counted when written, not when committed: a rolled-back transaction (a crash, a refused change) still counts,
    // which a metric may do; the store stays the record.
    private static void CountTask(EntityKind kind, string state)
    {
        if (kind == EntityKind.Task)
        {
            Telemetry.UetTelemetry.TaskTransitions.Add(1, new KeyValuePair<string, object?>("state", state));
        }
    }
}
