using Uet.State;
using Xunit;
using SM = Uet.State.StateMachines;

namespace Uet.Tests.State;

public sealed class StateChangerTests
{
    public static TheoryData<EntityKind> Kinds() => new(Enum.GetValues<EntityKind>());

    /// <summary>Creates the parents an entity needs, then the entity, then walks it to <paramref name="state"/> by legal steps.</summary>
    private static async Task<string> EntityInStateAsync(StoreFixture f, EntityKind kind, string state, int n)
    {
        var id = $"{kind.Name()}-{n}";
        await f.CreateAsync(EntityKind.Run, $"run-{n}", null);
        if (kind is EntityKind.Step or EntityKind.Patch)
        {
            await f.CreateAsync(EntityKind.Task, $"task-{n}", $"run-{n}", new() { ["workstream_id"] = "ws-a" });
        }

        var columns = kind switch
        {
            EntityKind.Task => new Dictionary<string, object?> { ["workstream_id"] = "ws-b" },
            EntityKind.Step => new Dictionary<string, object?> { ["task_id"] = $"task-{n}", ["attempt"] = 1 },
            EntityKind.Patch => new Dictionary<string, object?> { ["task_id"] = $"task-{n}" },
            _ => [],
        };
        if (kind != EntityKind.Run)
        {
            await f.CreateAsync(kind, id, $"run-{n}", columns);
        }
        else
        {
            id = $"run-{n}";
        }

        foreach (var step in PathTo(kind, state))
        {
            await f.ChangeAsync(kind, id, step);
        }

        return id;
    }

    private static List<string> PathTo(EntityKind kind, string target)
    {
        var start = SM.InitialState(kind);
        var previous = new Dictionary<string, string> { [start] = start };
        var queue = new Queue<string>([start]);
        while (queue.Count > 0)
        {
            var state = queue.Dequeue();
            foreach (var (_, to) in SM.LegalTransitions(kind).Where(t => t.From == state))
            {
                if (previous.TryAdd(to, state))
                {
                    queue.Enqueue(to);
                }
            }
        }

        var path = new List<string>();
        for (var s = target; s != start; s = previous[s])
        {
            path.Add(s);
        }

        path.Reverse();
        return path;
    }

    private static string Table(EntityKind kind) => kind == EntityKind.Run ? "runs" : kind.Name() + (kind == EntityKind.Patch ? "es" : "s");

    private static string Key(EntityKind kind) => kind.Name() + "_id";

    [Fact]
    public async Task TryChange_FromTheStateItIsIn_WritesStateAndEvent_FromAnother_WritesNothing_IllegalPair_Refused()
    {
        await using var f = await StoreFixture.MigratedAsync();
        await f.CreateAsync(EntityKind.Run, "run-1", null);
        await f.CreateAsync(EntityKind.Task, "task-1", "run-1", new() { ["workstream_id"] = "ws-a" });

        StateEvent? wrongGuess = null;
        await f.InTransactionAsync(async t => wrongGuess = await StateChanger.TryChangeAsync(t, EntityKind.Task, "task-1", SM.Task.Running, SM.Task.Ready, "guess", CancellationToken.None));
        Assert.Null(wrongGuess);
        Assert.Equal("pending", f.Scalar("SELECT state FROM tasks"));
        Assert.Equal(1L, f.Count("SELECT COUNT(*) FROM events WHERE entity = 'task'")); // its creation only

        StateEvent? moved = null;
        await f.InTransactionAsync(async t => moved = await StateChanger.TryChangeAsync(t, EntityKind.Task, "task-1", SM.Task.Pending, SM.Task.Ready, "deps", CancellationToken.None));
        Assert.Equal(("task.ready", SM.Task.Pending, SM.Task.Ready), (moved!.EventType, moved.FromState, moved.ToState));
        Assert.Equal("ready", f.Scalar("SELECT state FROM tasks"));
        Assert.Equal("task.ready", f.Scalar("SELECT event_type FROM events ORDER BY event_id DESC LIMIT 1"));

        await Assert.ThrowsAsync<StateException>(() => f.InTransactionAsync(t => StateChanger.TryChangeAsync(t, EntityKind.Task, "task-1", SM.Task.Ready, SM.Task.Completed, null, CancellationToken.None)));
        Assert.Equal("ready", f.Scalar("SELECT state FROM tasks"));
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("quote \" backslash \\ tab \t newline \n end")]
    [InlineData("<script>&'ü 日本 😀")]
    public async Task Change_Reason_IsStoredAsJsonObjectWithOneReason_ExactlyAsSerialized(string reason)
    {
        await using var f = await StoreFixture.MigratedAsync();
        await f.CreateAsync(EntityKind.Run, "run-1", null);
        await f.InTransactionAsync(t => StateChanger.ChangeAsync(t, EntityKind.Run, "run-1", SM.Run.Running, reason, CancellationToken.None));

        var data = (string)f.Scalar("SELECT data FROM events WHERE event_type = 'run.running'")!;

        // The same text the serializer gives for a one-entry object (what readers and older databases have).
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["reason"] = reason }), data);
        using var parsed = System.Text.Json.JsonDocument.Parse(data);
        Assert.Equal(reason, parsed.RootElement.GetProperty("reason").GetString());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Change_EveryLegalTransition_SucceedsAndWritesOneEvent(EntityKind kind)
    {
        await using var f = await StoreFixture.MigratedAsync();
        var n = 0;
        foreach (var (from, to) in SM.LegalTransitions(kind))
        {
            var id = await EntityInStateAsync(f, kind, from, ++n);
            var events = f.Count("SELECT COUNT(*) FROM events");

            await f.ChangeAsync(kind, id, to);

            Assert.Equal(to, f.Scalar($"SELECT state FROM {Table(kind)} WHERE {Key(kind)} = '{id}'"));
            Assert.Equal(events + 1, f.Count("SELECT COUNT(*) FROM events"));
            Assert.Equal(1, f.Count($"SELECT COUNT(*) FROM events WHERE entity_id = '{id}' AND from_state = '{from}' AND to_state = '{to}' AND entity = '{kind.Name()}'"));
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Change_EveryIllegalTransition_RefusedAndChangesNothing(EntityKind kind)
    {
        await using var f = await StoreFixture.MigratedAsync();
        var states = SM.States(kind);
        var n = 0;
        foreach (var from in states)
        {
            var id = await EntityInStateAsync(f, kind, from, ++n);
            foreach (var to in states.Where(to => !SM.IsLegal(kind, from, to)))
            {
                var events = f.Count("SELECT COUNT(*) FROM events");

                var ex = await Assert.ThrowsAsync<StateException>(() => f.ChangeAsync(kind, id, to));

                Assert.Contains($"illegal transition of {kind.Name()} {id}: {from} -> {to}", ex.Message, StringComparison.Ordinal);
                Assert.Equal(from, f.Scalar($"SELECT state FROM {Table(kind)} WHERE {Key(kind)} = '{id}'"));
                Assert.Equal(events, f.Count("SELECT COUNT(*) FROM events"));
            }
        }
    }

    [Fact]
    public async Task Change_UnknownEntity_NotFound()
    {
        await using var f = await StoreFixture.MigratedAsync();

        var ex = await Assert.ThrowsAsync<StateException>(() => f.ChangeAsync(EntityKind.Task, "task-nope", SM.Task.Ready));

        Assert.Contains("no task 'task-nope'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Change_TaskLifecycle_TimestampsAttemptsAndDuration()
    {
        await using var f = await StoreFixture.MigratedAsync();
        await f.CreateAsync(EntityKind.Run, "run-1", null);
        await f.CreateAsync(EntityKind.Task, "task-1", "run-1", new() { ["workstream_id"] = "ws-a" });
        await f.ChangeAsync(EntityKind.Task, "task-1", SM.Task.Ready);
        await f.ChangeAsync(EntityKind.Task, "task-1", SM.Task.Running);
        f.Clock.Advance(TimeSpan.FromSeconds(30));
        await f.ChangeAsync(EntityKind.Task, "task-1", SM.Task.Ready); // retry
        f.Clock.Advance(TimeSpan.FromSeconds(30));
        await f.ChangeAsync(EntityKind.Task, "task-1", SM.Task.Running);
        f.Clock.Advance(TimeSpan.FromSeconds(30));

        await f.ChangeAsync(EntityKind.Task, "task-1", SM.Task.Completed);

        Assert.Equal(2L, f.Scalar("SELECT attempts FROM tasks WHERE task_id = 'task-1'"));
        Assert.Equal("2026-11-29T08:00:00.000Z", f.Scalar("SELECT started_at FROM tasks WHERE task_id = 'task-1'"));
        Assert.Equal("2026-11-29T08:01:30.000Z", f.Scalar("SELECT completed_at FROM tasks WHERE task_id = 'task-1'"));
        Assert.Equal(90_000L, f.Scalar("SELECT duration_ms FROM tasks WHERE task_id = 'task-1'"));
        Assert.Equal("task.completed", f.Scalar("SELECT event_type FROM events ORDER BY event_id DESC LIMIT 1"));
        Assert.Equal("run-1", f.Scalar("SELECT run_id FROM events ORDER BY event_id DESC LIMIT 1"));
    }

    [Fact]
    public async Task Change_WorkerTerminated_SetsTerminatedAt()
    {
        await using var f = await StoreFixture.MigratedAsync();
        await f.CreateAsync(EntityKind.Worker, "w-1", null);
        await f.ChangeAsync(EntityKind.Worker, "w-1", SM.Worker.Idle);
        await f.ChangeAsync(EntityKind.Worker, "w-1", SM.Worker.Draining);
        f.Clock.Advance(TimeSpan.FromMinutes(1));

        await f.ChangeAsync(EntityKind.Worker, "w-1", SM.Worker.Terminated);

        Assert.Equal("2026-11-29T08:01:00.000Z", f.Scalar("SELECT terminated_at FROM workers WHERE worker_id = 'w-1'"));
    }

    [Fact]
    public async Task Transaction_NotCommitted_LeavesNoStateAndNoEvent()
    {
        await using var f = await StoreFixture.MigratedAsync();
        await f.CreateAsync(EntityKind.Worker, "w-1", null);

        await using (var transaction = await f.Store.BeginAsync(CancellationToken.None))
        {
            await StateChanger.ChangeAsync(transaction, EntityKind.Worker, "w-1", SM.Worker.Idle, null, CancellationToken.None);
        }

        Assert.Equal("SPAWNING", f.Scalar("SELECT state FROM workers"));
        Assert.Equal(1, f.Count("SELECT COUNT(*) FROM events"));
    }

    [Fact]
    public async Task Schema_CheckConstraints_RefuseUnknownStates()
    {
        await using var f = await StoreFixture.MigratedAsync();

        var ex = Assert.ThrowsAny<Exception>(() => f.Scalar("INSERT INTO workers (worker_id, state, created_at) VALUES ('w', 'SLEEPING', 'x')"));

        Assert.Contains("CHECK constraint failed", ex.Message, StringComparison.Ordinal);
    }
}
