namespace Uet.State;

/// <summary>
/// One live run per state database. The holder renews a lease by heartbeat; a holder that died stops renewing,
/// and once its lease has run out the next run may take over. Taking, renewing and releasing are transactions
/// on the same database, so two processes can never both believe they hold it.
/// </summary>
public static class RunLock
{
    public static async Task<RunLockRecord> AcquireAsync(StateStore store, string runId, TimeProvider clock, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var transaction = await store.BeginAsync(cancellationToken).ConfigureAwait(false);
        var now = clock.GetUtcNow();
        var current = await transaction.GetRunLockAsync(cancellationToken).ConfigureAwait(false);
        // A live lease is the holder's alone, even for the same run id (two 'resume' of one run must not both go on).
        // Another holder keeps the lock while its lease runs - and, on this machine, for as long as its process lives,
        // lease or not (a stopped process resumed later would otherwise find its run taken over under it).
        if (current is not null && !IsMine(current, runId)
            && (current.OwnerHost == Environment.MachineName && current.OwnerPid != Environment.ProcessId
                ? !IsDeadHere(current)
                : current.LeaseExpiresAt > now))
        {
            throw StateException.RunAlreadyActive(current);
        }

        var taken = new RunLockRecord(runId, Environment.MachineName, Environment.ProcessId, now, now, now + lease);
        await transaction.WriteRunLockAsync(taken, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return taken;
    }

    public static async Task HeartbeatAsync(StateStore store, string runId, TimeProvider clock, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var transaction = await store.BeginAsync(cancellationToken).ConfigureAwait(false);
        var current = await transaction.GetRunLockAsync(cancellationToken).ConfigureAwait(false);
        if (current is null || !IsMine(current, runId))
        {
            throw StateException.NotLockHolder(runId, current);
        }

        var now = clock.GetUtcNow();
        await transaction.WriteRunLockAsync(current with { HeartbeatAt = now, LeaseExpiresAt = now + lease }, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public static async Task ReleaseAsync(StateStore store, string runId, CancellationToken cancellationToken)
    {
        await using var transaction = await store.BeginAsync(cancellationToken).ConfigureAwait(false);
        if (await transaction.GetRunLockAsync(cancellationToken).ConfigureAwait(false) is { } current && IsMine(current, runId))
        {
            await transaction.WriteRunLockAsync(null, cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    // A holder on this machine whose process is gone (killed, crashed) cannot renew its lease: no need to wait for it.
    private static bool IsDeadHere(RunLockRecord current)
    {
        if (current.OwnerHost != Environment.MachineName || current.OwnerPid == Environment.ProcessId)
        {
            return false;
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(current.OwnerPid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true; // no such process
        }
    }

    private static bool IsMine(RunLockRecord current, string runId) =>
        current.RunId == runId && current.OwnerPid == Environment.ProcessId && current.OwnerHost == Environment.MachineName;
}
