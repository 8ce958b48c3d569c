using Uet.State;
using Uet.Tests.Support;
using Xunit;

namespace Uet.Tests.State;

/// <summary>
/// Group commit on a real SQLite file: a transaction that commits while another writer waits hands the physical
/// commit over and returns only once the group is durable; one member's failure fails the group, never silently.
/// </summary>
public sealed class GroupCommitTests
{
    private static Task NewWorker(StoreTransaction t, string id) =>
        StateChanger.CreateAsync(t, new NewEntity(EntityKind.Worker, id, null, new Dictionary<string, object?>()), CancellationToken.None);

    /// <summary>
    /// The store's WAL sync replaced: a call that <c>holds</c> (by its number, from 1) signals <see cref="Syncing"/> and
    /// waits for <see cref="Release"/>; each returns <c>result</c> (0, or an errno).
    /// </summary>
    private sealed class HeldSync : IDisposable
    {
        private int _calls;

        public HeldSync(StoreFixture f, Func<int, bool> holds, Func<int, int> result) =>
            f.Store.SyncOverride = () =>
            {
                var call = Interlocked.Increment(ref _calls);
                if (holds(call))
                {
                    Syncing.Release();
                    Release.Wait(TimeSpan.FromSeconds(30));
                }

                return result(call);
            };

        public SemaphoreSlim Syncing { get; } = new(0);

        public SemaphoreSlim Release { get; } = new(0);

        public int Calls => Volatile.Read(ref _calls);

        public void Dispose()
        {
            Syncing.Dispose();
            Release.Dispose();
        }
    }

    /// <summary>A transaction that creates worker <paramref name="id"/>, its commit started on another thread (waited for within 10 s for the gate).</summary>
    private static async Task<(StoreTransaction Transaction, Task Commit)> WriteAndCommitAsync(StoreFixture f, string id)
    {
        var transaction = await f.Store.BeginAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        await NewWorker(transaction, id);
        return (transaction, Task.Run(() => transaction.CommitAsync(CancellationToken.None)));
    }

    [Fact]
    public async Task HandedOver_CommitReturnsOnlyOnceTheNextWriterEnds_BothDurable()
    {
        await using var f = await StoreFixture.MigratedAsync();
        var a = await f.Store.BeginAsync(CancellationToken.None);
        await NewWorker(a, "w-a");
        var bBegin = f.Store.BeginAsync(CancellationToken.None); // waits for the gate: counted as entering
        var aCommit = a.CommitAsync(CancellationToken.None);
        await a.DisposeAsync();
        var b = await bBegin;

        Assert.False(aCommit.IsCompleted); // handed over: not durable yet
        Assert.Equal(0, f.Count("SELECT COUNT(*) FROM workers")); // nothing visible to another connection

        await NewWorker(b, "w-b");
        await b.CommitAsync(CancellationToken.None);
        await b.DisposeAsync();
        await aCommit.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, f.Count("SELECT COUNT(*) FROM workers"));
    }

    [Fact]
    public async Task Full_OnLinux_TheWalIsSyncedAfterTheGateIsFree_CommitReturnsOnlyAfterTheSync()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        await using var f = await StoreFixture.MigratedAsync();
        using var held = new HeldSync(f, holds: _ => true, result: _ => 0);
        var (syncing, release) = (held.Syncing, held.Release);

        var (a, aCommit) = await WriteAndCommitAsync(f, "w-a");
        Assert.True(await syncing.WaitAsync(TimeSpan.FromSeconds(10)), "the commit never synced the WAL");
        Assert.True(f.Store.SyncsOutsideTheGate);

        // During the sync: the commit has not returned (not durable yet), and another writer has the connection.
        Assert.False(aCommit.IsCompleted);
        var (b, bCommit) = await WriteAndCommitAsync(f, "w-b");

        // Syncs run one after the other: the second starts once the first has ended.
        Assert.False(await syncing.WaitAsync(TimeSpan.FromMilliseconds(300)), "two syncs ran at the same time");
        release.Release();
        await aCommit.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(await syncing.WaitAsync(TimeSpan.FromSeconds(10)), "the second commit never synced");
        Assert.False(bCommit.IsCompleted);
        release.Release();
        await bCommit.WaitAsync(TimeSpan.FromSeconds(10));
        await a.DisposeAsync();
        await b.DisposeAsync();
        Assert.Equal(2, held.Calls);
        Assert.Equal(2, f.Count("SELECT COUNT(*) FROM workers"));
    }

    [Fact]
    public async Task Full_OnLinux_ASyncFails_TheCommitWaitingBehindIt_IsNotReportedDurable()
    {
        // Linux reports a failed write-back once: a sync running next to the failing one could succeed, although the
        // frames before its own were lost. The later commit must fail too.
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        await using var f = await StoreFixture.MigratedAsync();
        // The first sync is held and fails (EIO); the kernel would say "fine" to the second, at once.
        using var held = new HeldSync(f, holds: call => call == 1, result: call => call == 1 ? 5 : 0);
        var (syncing, release) = (held.Syncing, held.Release);

        var (a, aCommit) = await WriteAndCommitAsync(f, "w-a");
        Assert.True(await syncing.WaitAsync(TimeSpan.FromSeconds(10)));
        var (b, bCommit) = await WriteAndCommitAsync(f, "w-b");
        await Task.Delay(200);
        release.Release();

        await Assert.ThrowsAsync<StateException>(() => aCommit);
        await Assert.ThrowsAsync<StateException>(() => bCommit);
        await a.DisposeAsync();
        await b.DisposeAsync();
    }

    [Fact]
    public async Task Full_OnLinux_AFailedSync_FailsTheCommit_AndTheStoreTakesNoMoreWrites()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        await using var f = await StoreFixture.MigratedAsync();
        f.Store.SyncOverride = () => 5; // EIO

        var a = await f.Store.BeginAsync(CancellationToken.None);
        await NewWorker(a, "w-a");
        var failed = await Assert.ThrowsAsync<StateException>(() => a.CommitAsync(CancellationToken.None));
        await a.DisposeAsync();

        Assert.Contains("could not be made durable", failed.Message, StringComparison.Ordinal);
        var refused = await Assert.ThrowsAsync<StateException>(() => f.Store.BeginAsync(CancellationToken.None));
        Assert.Same(failed, refused);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LaterMemberMakesSqliteRollBackEverything_EarlierMemberFails_NothingWritten_StoreGoesOn(bool laterTriesToCommit)
    {
        await using var f = await StoreFixture.MigratedAsync();
        // RAISE(ROLLBACK) ends the whole transaction, as SQLite does on a full disk or an I/O error.
        TestRepository.Execute(f.DatabasePath, "CREATE TRIGGER boom BEFORE INSERT ON workers WHEN NEW.worker_id = 'boom' BEGIN SELECT RAISE(ROLLBACK, 'boom'); END;");

        var a = await f.Store.BeginAsync(CancellationToken.None);
        await NewWorker(a, "w-a");
        var bBegin = f.Store.BeginAsync(CancellationToken.None);
        var aCommit = a.CommitAsync(CancellationToken.None);
        await a.DisposeAsync();
        var b = await bBegin;
        await Assert.ThrowsAnyAsync<Exception>(() => NewWorker(b, "boom"));
        if (laterTriesToCommit)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => b.CommitAsync(CancellationToken.None));
        }

        await b.DisposeAsync();

        await Assert.ThrowsAsync<StateException>(() => aCommit.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, f.Count("SELECT COUNT(*) FROM workers"));
        await f.InTransactionAsync(t => NewWorker(t, "w-c"));
        Assert.Equal(1, f.Count("SELECT COUNT(*) FROM workers"));
    }

    [Fact]
    public async Task ManyWritersCommittingAndRollingBack_ExactlyTheCommittedOnesStay()
    {
        await using var f = await StoreFixture.MigratedAsync();
        var committed = 0;
        var flows = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 150; i++)
            {
                await using var t = await f.Store.BeginAsync(CancellationToken.None);
                await NewWorker(t, $"w-{w}-{i}");
                if (i % 3 == 0)
                {
                    continue; // disposed without commit: rolled back, alone
                }

                await t.CommitAsync(CancellationToken.None);
                Interlocked.Increment(ref committed);
            }
        }));

        await Task.WhenAll(flows).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(800, committed);
        Assert.Equal(committed, f.Count("SELECT COUNT(*) FROM workers"));
    }

    [Fact]
    public async Task WriterCancelledWhileWaiting_ReturnsAtOnce_AndTheStoreGoesOn()
    {
        await using var f = await StoreFixture.MigratedAsync();
        var a = await f.Store.BeginAsync(CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var b = f.Store.BeginAsync(cancel.Token);
        await NewWorker(a, "w-a");
        await cancel.CancelAsync();

        // While a still holds the connection, b's caller gets its cancellation at once.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b.WaitAsync(TimeSpan.FromSeconds(5)));
        await a.CommitAsync(CancellationToken.None);
        await a.DisposeAsync();
        await f.InTransactionAsync(t => NewWorker(t, "w-c"));
        Assert.Equal(2, f.Count("SELECT COUNT(*) FROM workers"));
    }
}
