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
        return created;
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
        var current = await transaction.GetStateAsync(kind, id, cancellationToken).ConfigureAwait(false)
            ?? throw StateException.NotFound(kind, id);
        if (!StateMachines.IsLegal(kind, current.State, to))
        {
            throw StateException.IllegalTransition(kind, id, current.State, to);
        }

        var now = transaction.Clock.GetUtcNow();
        // The UPDATE is guarded by the state just read, so a concurrent writer can never be overwritten silently.
        if (!await transaction.WriteStateAsync(kind, id, current.State, to, now, cancellationToken).ConfigureAwait(false))
        {
            throw StateException.ChangedConcurrently(kind, id, current.State);
        }

        FaultInjection.Hit(FaultInjection.AfterStateWritten);
        var changed = new StateEvent(
            0,
            current.RunId,
            kind,
            id,
            $"{kind.Name()}.{to.ToLowerInvariant()}",
            current.State,
            to,
            now,
            reason is null ? null : JsonSerializer.Serialize(new Dictionary<string, string> { ["reason"] = reason }));
        await transaction.AppendEventAsync(changed, cancellationToken).ConfigureAwait(false);
        return changed;
    }
}
