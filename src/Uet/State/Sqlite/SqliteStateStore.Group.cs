using Microsoft.Data.Sqlite;

namespace Uet.State.Sqlite;

/// <summary>
/// Group commit. Each <see cref="StoreTransaction"/> is a savepoint inside one physical SQLite transaction on the write
/// connection. A transaction that commits while another writer is already waiting for the connection merges its
/// savepoint, hands the physical transaction over and waits: the last of the group commits (one fsync for all) and
/// releases every member; a failure of that commit fails every member. A member's CommitAsync therefore returns only
/// once its changes are durable, exactly as before, and a crash before the physical commit leaves none of the group.
/// A transaction that rolls back undoes its own savepoint only. Between groups no physical transaction stays open, so
/// other processes get the write lock as before.
/// </summary>
public sealed partial class SqliteStateStore
{
    internal const string Savepoint = "uet_tx";
    private const int MaxGroup = 64;

    private readonly List<TaskCompletionSource> _groupMembers = [];
    private SqliteTransaction? _group;
    private int _entering;

    /// <summary>
    /// Called (gate held) by a transaction whose savepoint is merged. Returns a task to await when the physical commit
    /// is handed over to the next writer (the gate must then be released by the caller), or null when it committed now
    /// (then <paramref name="committed"/> is to be settled, see <see cref="Settle"/>, once the caller freed the gate).
    /// </summary>
    internal Task? CommitOrHandOver(out Committed? committed)
    {
        if (Volatile.Read(ref _entering) > 0 && _groupMembers.Count < MaxGroup - 1)
        {
            var member = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _groupMembers.Add(member);
            committed = null;
            return member.Task;
        }

        committed = CommitGroup();
        return null;
    }

    /// <summary>Called by a transaction when it ends: settles the group unless the next writer will, then frees the gate.</summary>
    internal void EndWrite(bool broken, bool settleGroup)
    {
        Committed? committed = null;
        try
        {
            if (broken)
            {
                // The physical transaction is in doubt (SQLite may have rolled it back whole): every member fails.
                FailGroup(StateException.Unusable(Path, "a write failed and the transaction could not be undone cleanly; the changes of the transactions waiting to commit with it were lost", new InvalidOperationException("rollback to the savepoint failed")));
                DropWriter();
            }
            else if (settleGroup && Volatile.Read(ref _entering) == 0 && _group is not null)
            {
                committed = CommitGroup();
            }
        }
        catch (StateException)
        {
            // The members were failed with it; the transaction that ended already had its own outcome.
        }
        finally
        {
            _writeGate.Release();
        }

        try
        {
            Settle(committed); // the WAL's sync, if any, without the gate
        }
        catch (StateException)
        {
            // The members were failed with it.
        }
    }

    /// <summary>
    /// A writer gave up waiting (cancelled): a group handed over to it must still be committed. Done in the background,
    /// so the cancelled caller returns at once; the next holder of the gate settles it.
    /// </summary>
    private async Task SettleAbandonedGroupAsync()
    {
        try
        {
            await _writeGate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            EndWrite(broken: false, settleGroup: true);
        }
        catch (ObjectDisposedException)
        {
            // The store is closed: its members were failed then.
        }
    }

    /// <summary>The store closes: a group still open is rolled back by the connection's close, so its members fail now.</summary>
    private void FailOpenGroup() =>
        FailGroup(StateException.Unusable(Path, "the store was closed before the transactions waiting to commit together were committed", new ObjectDisposedException(nameof(SqliteStateStore))));

    /// <summary>
    /// Commits the physical transaction (gate held) and returns its members, to be released by <see cref="Settle"/> once
    /// the gate is free (after the WAL's sync when the commit did not sync it); on failure fails them and throws.
    /// </summary>
    private Committed? CommitGroup()
    {
        var group = _group;
        if (group is null)
        {
            return null;
        }

        _group = null;
        var members = _groupMembers.ToArray();
        _groupMembers.Clear();
        try
        {
            group.Commit();
        }
#pragma warning disable CA1031 // Whatever the commit threw, no member may be left waiting: each gets the failure.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            var error = (ex as SqliteException is { } sqlite ? Translate(sqlite) : null) ?? StateException.Unusable(Path, "the commit failed: " + ex.Message, ex);
            Fail(members, error);
            TryDispose(group);
            DropWriter();
            throw error;
        }

        group.Dispose();
        return new Committed(members, _writerSyncsLater);
    }

    private void FailGroup(StateException error)
    {
        var group = _group;
        _group = null;
        Fail(_groupMembers, error);
        _groupMembers.Clear();
        if (group is not null)
        {
            TryDispose(group);
        }
    }

    private static void Fail(IEnumerable<TaskCompletionSource> members, StateException error)
    {
        foreach (var member in members)
        {
            member.TrySetException(error);
        }
    }

    private static void TryDispose(SqliteTransaction transaction)
    {
        try
        {
            transaction.Dispose();
        }
        catch (Exception ex) when (ex is SqliteException or InvalidOperationException)
        {
            // Already rolled back by SQLite, or its connection is gone.
        }
    }
}
