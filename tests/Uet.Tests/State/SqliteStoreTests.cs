using Microsoft.Data.Sqlite;
using Uet.State;
using Uet.State.Sqlite;
using Xunit;

namespace Uet.Tests.State;

public sealed class SqliteStoreTests
{
    private static readonly string[] OriginalTables = ["runs", "steps", "workers", "patches", "tasks", "events"];

    [Fact]
    public async Task Migrate_EmptyFile_CreatesTheSixTablesAtTheLatestVersion()
    {
        await using var f = new StoreFixture();

        await f.Store.MigrateAsync(null, CancellationToken.None);

        Assert.Equal(f.Store.LatestSchemaVersion, await f.Store.GetSchemaVersionAsync(CancellationToken.None));
        foreach (var table in OriginalTables)
        {
            Assert.Equal(1, f.Count($"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'"));
        }

        Assert.Equal("wal", f.Scalar("PRAGMA journal_mode"));
    }

    [Fact]
    public async Task Migrate_FromPreviousVersion_KeepsDataAndAddsTheNewParts()
    {
        await using var f = new StoreFixture();
        await f.Store.MigrateAsync(1, CancellationToken.None);
        Assert.Equal(1, await f.Store.GetSchemaVersionAsync(CancellationToken.None));
        f.Scalar("INSERT INTO workers (worker_id, state, created_at) VALUES ('w-old', 'IDLE', '2026-01-01T00:00:00.000Z')");
        Assert.Equal(0, f.Count("SELECT COUNT(*) FROM sqlite_master WHERE name = 'run_lock'"));

        await f.Store.MigrateAsync(null, CancellationToken.None);

        Assert.Equal(f.Store.LatestSchemaVersion, await f.Store.GetSchemaVersionAsync(CancellationToken.None));
        Assert.Equal("IDLE", f.Scalar("SELECT state FROM workers WHERE worker_id = 'w-old'"));
        // Version 1 had no leases: an old worker's lease ended with its last sign of life, so it can be expired.
        Assert.Equal("2026-01-01T00:00:00.000Z", f.Scalar("SELECT lease_expires_at FROM workers WHERE worker_id = 'w-old'"));
        var expired = await new Uet.Execution.WorkerPool(f.Store, f.Clock, TimeSpan.FromMinutes(1)).ExpireLeasesAsync(CancellationToken.None);
        Assert.Equal("w-old", Assert.Single(expired).WorkerId);
        Assert.Equal(1, f.Count("SELECT COUNT(*) FROM sqlite_master WHERE name = 'run_lock'"));
        Assert.Equal(f.Store.LatestSchemaVersion, f.Count("SELECT COUNT(*) FROM schema_version"));
    }

    [Fact]
    public async Task StepUsage_RecordedPerAttempt_SummedPerTask_NullWhereNoToolSaid()
    {
        await using var f = await StoreFixture.MigratedAsync();
        await f.CreateAsync(EntityKind.Run, "run-1", null);
        await f.CreateAsync(EntityKind.Task, "task-1", "run-1", new() { ["workstream_id"] = "ws-a" });
        foreach (var attempt in new[] { 1, 2, 3 })
        {
            await f.CreateAsync(EntityKind.Step, $"step-{attempt}", "run-1", new() { ["task_id"] = "task-1", ["attempt"] = attempt });
        }

        Assert.Equal(ToolUsage.None, await f.Store.TaskUsageAsync("task-1", CancellationToken.None));
        await f.InTransactionAsync(t => t.SetStepUsageAsync("step-1", "claude", new ToolUsage(0.25, 1000, 50), CancellationToken.None));
        await f.InTransactionAsync(t => t.SetStepUsageAsync("step-2", "codex", new ToolUsage(null, 500, 20), CancellationToken.None));

        Assert.Equal(new ToolUsage(0.25, 1500, 70), await f.Store.TaskUsageAsync("task-1", CancellationToken.None));
        Assert.Equal("codex", f.Scalar("SELECT tool FROM steps WHERE step_id = 'step-2'"));
        Assert.Equal(DBNull.Value, f.Scalar("SELECT cost_usd FROM steps WHERE step_id = 'step-3'"));
        Assert.Throws<SqliteException>(() => f.Scalar("UPDATE steps SET cost_usd = -1 WHERE step_id = 'step-3'"));
    }

    [Fact]
    public async Task Migrate_Twice_IsANoOp()
    {
        await using var f = await StoreFixture.MigratedAsync();

        await f.Store.MigrateAsync(null, CancellationToken.None);

        Assert.Equal(f.Store.LatestSchemaVersion, f.Count("SELECT COUNT(*) FROM schema_version"));
    }

    [Fact]
    public async Task Open_NewerSchema_Refused()
    {
        await using var f = await StoreFixture.MigratedAsync();
        f.Scalar("INSERT INTO schema_version (version, applied_at) VALUES (99, 'x')");

        var ex = await Assert.ThrowsAsync<StateException>(() => SqliteStateStore.OpenCurrentAsync(f.DatabasePath, f.Clock, CancellationToken.None));

        Assert.Contains("schema version 99", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenCurrent_OlderSchema_SaysRunInitAndChangesNothing()
    {
        await using var f = new StoreFixture();
        await f.Store.MigrateAsync(1, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<StateException>(() => SqliteStateStore.OpenCurrentAsync(f.DatabasePath, f.Clock, CancellationToken.None));

        Assert.Contains("Run 'uet init' to migrate it", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, await f.Store.GetSchemaVersionAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Create_WithAColumnTheChangerOwns_Refused()
    {
        await using var f = await StoreFixture.MigratedAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => f.CreateAsync(EntityKind.Worker, "w-x", null, new() { ["state"] = "TERMINATED" }));
        await Assert.ThrowsAsync<ArgumentException>(() => f.CreateAsync(EntityKind.Worker, "w-y", null, new() { ["terminated_at"] = "2026-01-01" }));

        Assert.Equal(0, f.Count("SELECT COUNT(*) FROM workers"));
        Assert.Equal(0, f.Count("SELECT COUNT(*) FROM events"));
    }

    [Fact]
    public async Task Begin_AfterABusyFailure_WorksOnceTheLockIsFree()
    {
        await using var f = await StoreFixture.MigratedAsync();
        using (var holder = new SqliteConnection($"Data Source={f.DatabasePath};Pooling=False"))
        {
            holder.Open();
            using var lockTransaction = holder.BeginTransaction(deferred: false);
            await Assert.ThrowsAsync<StateException>(() => f.Store.BeginAsync(CancellationToken.None));
        }

        await f.CreateAsync(EntityKind.Worker, "w-1", null);

        Assert.Equal(1, f.Count("SELECT COUNT(*) FROM workers"));
    }

    [Fact]
    public async Task RunLock_SameRunIdHeldByAnotherProcess_Refused()
    {
        await using var f = await StoreFixture.MigratedAsync();
        var now = f.Clock.GetUtcNow();
        await f.InTransactionAsync(t => t.WriteRunLockAsync(
            new RunLockRecord("run-a", Environment.MachineName, 1, now, now, now.AddMinutes(1)), CancellationToken.None)); // pid 1: alive, not us

        await Assert.ThrowsAsync<StateException>(() => RunLock.AcquireAsync(f.Store, "run-a", f.Clock, TimeSpan.FromMinutes(1), CancellationToken.None));
        await Assert.ThrowsAsync<StateException>(() => RunLock.HeartbeatAsync(f.Store, "run-a", f.Clock, TimeSpan.FromMinutes(1), CancellationToken.None));
    }

    [Fact]
    public void Open_Missing_SaysRunInit()
    {
        var ex = Assert.Throws<StateException>(() => SqliteStateStore.Open(Path.Combine(Path.GetTempPath(), "uet-none", "nope.db"), TimeProvider.System));

        Assert.Contains("Run 'uet init'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, ex.ExitCode);
    }

    [Fact]
    public async Task Begin_WhileAnotherConnectionHoldsTheWriteLock_ClearBusyError()
    {
        await using var f = await StoreFixture.MigratedAsync();
        using var holder = new SqliteConnection($"Data Source={f.DatabasePath};Pooling=False");
        holder.Open();
        using var lockTransaction = holder.BeginTransaction(deferred: false);

        var ex = await Assert.ThrowsAsync<StateException>(async () =>
        {
            await using var transaction = await f.Store.BeginAsync(CancellationToken.None);
        });

        Assert.Contains("stayed locked by another uet process", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunLock_SecondRunRefusedUntilTheFirstLeaseExpires()
    {
        await using var f = await StoreFixture.MigratedAsync();
        var lease = TimeSpan.FromSeconds(30);
        await RunLock.AcquireAsync(f.Store, "run-a", f.Clock, lease, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<StateException>(() => RunLock.AcquireAsync(f.Store, "run-b", f.Clock, lease, CancellationToken.None));
        Assert.Contains("run run-a is live on this state database", ex.Message, StringComparison.Ordinal);

        f.Clock.Advance(TimeSpan.FromSeconds(20));
        await RunLock.HeartbeatAsync(f.Store, "run-a", f.Clock, lease, CancellationToken.None);
        f.Clock.Advance(TimeSpan.FromSeconds(20));
        await Assert.ThrowsAsync<StateException>(() => RunLock.AcquireAsync(f.Store, "run-b", f.Clock, lease, CancellationToken.None));

        f.Clock.Advance(TimeSpan.FromSeconds(11));
        var taken = await RunLock.AcquireAsync(f.Store, "run-b", f.Clock, lease, CancellationToken.None);

        Assert.Equal("run-b", taken.RunId);
        await RunLock.ReleaseAsync(f.Store, "run-b", CancellationToken.None);
        Assert.Null(await f.Store.GetRunLockAsync(CancellationToken.None));
    }

    [Fact]
    public async Task RunLock_TwoStoresOnOneFile_SecondRunGetsAClearError()
    {
        await using var f = await StoreFixture.MigratedAsync();
        await using var other = SqliteStateStore.Open(f.DatabasePath, f.Clock);
        await RunLock.AcquireAsync(f.Store, "run-a", f.Clock, TimeSpan.FromMinutes(1), CancellationToken.None);

        var ex = await Assert.ThrowsAsync<StateException>(() => RunLock.AcquireAsync(other, "run-b", f.Clock, TimeSpan.FromMinutes(1), CancellationToken.None));

        Assert.Contains("run run-a is live", ex.Message, StringComparison.Ordinal);
        Assert.Equal("run-a", (await other.GetRunLockAsync(CancellationToken.None))!.RunId);
    }

    [Fact]
    public async Task RunLock_HolderOnThisMachineIsDead_TakenOverAtOnce_AliveEvenPastItsLease_Refused()
    {
        await using var f = await StoreFixture.MigratedAsync();
        var now = f.Clock.GetUtcNow();
        using var gone = System.Diagnostics.Process.Start("true")!;
        gone.WaitForExit();
        await f.InTransactionAsync(t => t.WriteRunLockAsync(new RunLockRecord("run-a", Environment.MachineName, gone.Id, now, now, now.AddMinutes(10)), CancellationToken.None));

        var taken = await RunLock.AcquireAsync(f.Store, "run-b", f.Clock, TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.Equal("run-b", taken.RunId);

        await f.InTransactionAsync(t => t.WriteRunLockAsync(new RunLockRecord("run-c", Environment.MachineName, 1, now, now, now.AddMinutes(-5)), CancellationToken.None));
        await Assert.ThrowsAsync<StateException>(() => RunLock.AcquireAsync(f.Store, "run-d", f.Clock, TimeSpan.FromMinutes(1), CancellationToken.None));
    }

    [Fact]
    public async Task ReadEvents_FiltersTailAndAfter()
    {
        await using var f = await StoreFixture.MigratedAsync();
        await f.CreateAsync(EntityKind.Run, "run-1", null);
        await f.CreateAsync(EntityKind.Task, "task-1", "run-1", new() { ["workstream_id"] = "ws-a" });
        await f.ChangeAsync(EntityKind.Task, "task-1", StateMachines.Task.Ready);
        await f.CreateAsync(EntityKind.Worker, "w-1", null);

        var all = await f.Store.ReadEventsAsync(new EventQuery(), CancellationToken.None);
        var partial = await f.Store.ReadEventsAsync(new EventQuery(EventType: "tas"), CancellationToken.None);
        var wildcard = await f.Store.ReadEventsAsync(new EventQuery(EventType: "%"), CancellationToken.None);
        var exact = await f.Store.ReadEventsAsync(new EventQuery(EventType: "task.ready"), CancellationToken.None);
        var tasks = await f.Store.ReadEventsAsync(new EventQuery(EventType: "task"), CancellationToken.None);
        var run = await f.Store.ReadEventsAsync(new EventQuery(RunId: "run-1"), CancellationToken.None);
        var tail = await f.Store.ReadEventsAsync(new EventQuery(Tail: 2), CancellationToken.None);
        var after = await f.Store.ReadEventsAsync(new EventQuery(AfterEventId: all[1].EventId), CancellationToken.None);

        Assert.Equal(["run.created", "task.created", "task.ready", "worker.created"], all.Select(e => e.EventType));
        Assert.Equal(["task.created", "task.ready"], tasks.Select(e => e.EventType));
        Assert.Empty(partial);
        Assert.Empty(wildcard);
        Assert.Equal(["task.ready"], exact.Select(e => e.EventType));
        Assert.Equal(3, run.Count);
        Assert.Equal(["task.ready", "worker.created"], tail.Select(e => e.EventType));
        Assert.Equal(["task.ready", "worker.created"], after.Select(e => e.EventType));
    }
}
