using Uet.Execution;
using Uet.State;
using Xunit;
using SM = Uet.State.StateMachines;

namespace Uet.Tests.State;

public sealed class WorkerPoolTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Spawn_CreatesIdleWorkersWithTwoEventsEach()
    {
        await using var f = await StoreFixture.MigratedAsync();
        var pool = new WorkerPool(f.Store, f.Clock, Lease);

        var ids = await pool.SpawnAsync(3, null, CancellationToken.None);

        Assert.Equal(3, ids.Distinct().Count());
        Assert.Equal(3, f.Count("SELECT COUNT(*) FROM workers WHERE state = 'IDLE'"));
        Assert.Equal(6, f.Count("SELECT COUNT(*) FROM events WHERE entity = 'worker'"));
        Assert.Equal("2026-11-29T08:00:30.000Z", f.Scalar("SELECT MIN(lease_expires_at) FROM workers"));
    }

    [Fact]
    public async Task ExpireLeases_DeadWorkerTerminatedAndItsTaskBackToReady()
    {
        await using var f = await StoreFixture.MigratedAsync();
        var pool = new WorkerPool(f.Store, f.Clock, Lease);
        var ids = await pool.SpawnAsync(2, null, CancellationToken.None);
        var (dead, alive) = (ids[0], ids[1]);
        await f.CreateAsync(EntityKind.Run, "run-1", null);
        await f.CreateAsync(EntityKind.Task, "task-1", "run-1", new() { ["workstream_id"] = "ws-a" });
        await f.ChangeAsync(EntityKind.Task, "task-1", SM.Task.Ready);
        await f.ChangeAsync(EntityKind.Task, "task-1", SM.Task.Running);
        await f.CreateAsync(EntityKind.Step, "step-1", "run-1", new() { ["task_id"] = "task-1", ["attempt"] = 1 });
        await f.ChangeAsync(EntityKind.Step, "step-1", SM.Step.Running);
        await pool.AssignAsync(dead, "task-1", CancellationToken.None);

        f.Clock.Advance(TimeSpan.FromSeconds(20));
        await pool.HeartbeatAsync(alive, CancellationToken.None);
        Assert.Empty(await pool.ExpireLeasesAsync(CancellationToken.None)); // 20 s: both within their lease
        f.Clock.Advance(TimeSpan.FromSeconds(15));

        var expired = await pool.ExpireLeasesAsync(CancellationToken.None);

        var gone = Assert.Single(expired);
        Assert.Equal(dead, gone.WorkerId);
        Assert.Equal("task-1", gone.RequeuedTaskId);
        Assert.Equal("TERMINATED", f.Scalar($"SELECT state FROM workers WHERE worker_id = '{dead}'"));
        Assert.Equal("IDLE", f.Scalar($"SELECT state FROM workers WHERE worker_id = '{alive}'"));
        Assert.Equal("ready", f.Scalar("SELECT state FROM tasks WHERE task_id = 'task-1'"));
        Assert.Equal("failed", f.Scalar("SELECT state FROM steps WHERE step_id = 'step-1'"));
        Assert.Contains("lease expired", (string)f.Scalar("SELECT data FROM events WHERE entity_id = 'task-1' ORDER BY event_id DESC LIMIT 1")!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Drain_IdleEndNowBusyEndWhenTheirTaskEnds()
    {
        await using var f = await StoreFixture.MigratedAsync();
        var pool = new WorkerPool(f.Store, f.Clock, Lease);
        var ids = await pool.SpawnAsync(2, null, CancellationToken.None);
        await f.CreateAsync(EntityKind.Run, "run-1", null);
        await f.CreateAsync(EntityKind.Task, "task-x", "run-1", new() { ["workstream_id"] = "ws-a" });
        await pool.AssignAsync(ids[0], "task-x", CancellationToken.None);

        Assert.Equal(2, await pool.DrainAsync(CancellationToken.None));
        Assert.Equal("DRAINING", f.Scalar($"SELECT state FROM workers WHERE worker_id = '{ids[0]}'"));
        Assert.Equal("TERMINATED", f.Scalar($"SELECT state FROM workers WHERE worker_id = '{ids[1]}'"));

        await pool.ReleaseAsync(ids[0], CancellationToken.None);

        Assert.Equal(2, f.Count("SELECT COUNT(*) FROM workers WHERE state = 'TERMINATED' AND terminated_at IS NOT NULL"));
    }

    [Fact]
    public async Task Heartbeat_AfterBeingFoundDead_Refused()
    {
        await using var f = await StoreFixture.MigratedAsync();
        var pool = new WorkerPool(f.Store, f.Clock, Lease);
        var id = (await pool.SpawnAsync(1, null, CancellationToken.None))[0];
        f.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Single(await pool.ExpireLeasesAsync(CancellationToken.None));

        var ex = await Assert.ThrowsAsync<StateException>(() => pool.HeartbeatAsync(id, CancellationToken.None));

        Assert.Contains("is not live", ex.Message, StringComparison.Ordinal);
        Assert.Equal("TERMINATED", f.Scalar($"SELECT state FROM workers WHERE worker_id = '{id}'"));
    }

    [Fact]
    public async Task ExpireLeases_TaskRetriedOnAnotherWorker_LeftAlone()
    {
        await using var f = await StoreFixture.MigratedAsync();
        var pool = new WorkerPool(f.Store, f.Clock, Lease);
        var ids = await pool.SpawnAsync(2, null, CancellationToken.None);
        var (stale, live) = (ids[0], ids[1]);
        await f.CreateAsync(EntityKind.Run, "run-1", null);
        await f.CreateAsync(EntityKind.Task, "task-1", "run-1", new() { ["workstream_id"] = "ws-a" });
        await f.ChangeAsync(EntityKind.Task, "task-1", SM.Task.Ready);
        await f.ChangeAsync(EntityKind.Task, "task-1", SM.Task.Running);
        await pool.AssignAsync(stale, "task-1", CancellationToken.None);
        await f.ChangeAsync(EntityKind.Task, "task-1", SM.Task.Ready); // retried...
        await f.ChangeAsync(EntityKind.Task, "task-1", SM.Task.Running);
        await pool.AssignAsync(live, "task-1", CancellationToken.None); // ...on another worker
        f.Clock.Advance(TimeSpan.FromSeconds(20));
        await pool.HeartbeatAsync(live, CancellationToken.None);
        f.Clock.Advance(TimeSpan.FromSeconds(15));

        var expired = Assert.Single(await pool.ExpireLeasesAsync(CancellationToken.None));

        Assert.Equal(stale, expired.WorkerId);
        Assert.Null(expired.RequeuedTaskId);
        Assert.Equal("running", f.Scalar("SELECT state FROM tasks WHERE task_id = 'task-1'"));
    }

    [Fact]
    public async Task Assign_UnknownTask_RefusedAndNothingWritten()
    {
        await using var f = await StoreFixture.MigratedAsync();
        var pool = new WorkerPool(f.Store, f.Clock, Lease);
        var id = (await pool.SpawnAsync(1, null, CancellationToken.None))[0];

        await Assert.ThrowsAsync<StateException>(() => pool.AssignAsync(id, "task-ghost", CancellationToken.None));

        Assert.Equal("IDLE", f.Scalar($"SELECT state FROM workers WHERE worker_id = '{id}'"));
        Assert.Equal(2, f.Count("SELECT COUNT(*) FROM events"));
    }

    [Fact]
    public async Task Heartbeat_UnknownWorker_NotFound()
    {
        await using var f = await StoreFixture.MigratedAsync();
        var pool = new WorkerPool(f.Store, f.Clock, Lease);

        await Assert.ThrowsAsync<StateException>(() => pool.HeartbeatAsync("w-ghost", CancellationToken.None));
    }
}
