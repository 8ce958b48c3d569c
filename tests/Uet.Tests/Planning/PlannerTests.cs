using Uet.Planning;
using Uet.Workstreams;
using Xunit;

namespace Uet.Tests.Planning;

public sealed class PlannerTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    internal static Workstream Ws(string id, params string[] dependsOn) => new()
    {
        Id = id,
        Location = new SourceLocation("mem.json", 1, 1),
        DependsOn = dependsOn.Select(d => new DependencyRef(d, new SourceLocation("mem.json", 1, 1))).ToArray(),
        Estimate = Hour,
    };

    private static Plan Plan(int workers, params Workstream[] workstreams) =>
        Planner.Create(workstreams, new PlanOptions(workers, TimeSpan.FromMinutes(30)));

    private static List<string[]> Waves(Plan plan) => plan.Waves.Select(w => w.Workstreams.ToArray()).ToList();

    [Fact]
    public void Create_Chain_OneWavePerLinkAndNoParallelism()
    {
        var plan = Plan(4, Ws("ws-a"), Ws("ws-b", "ws-a"), Ws("ws-c", "ws-b"));

        Assert.Equal([["ws-a"], ["ws-b"], ["ws-c"]], Waves(plan));
        Assert.Equal(["ws-a", "ws-b", "ws-c"], plan.CriticalPath.Workstreams);
        Assert.Equal(3 * Hour, plan.CriticalPath.Duration);
        Assert.Equal(new PlanEstimates(4, 3 * Hour, 3 * Hour, 3 * Hour), plan.Estimates);
    }

    [Fact]
    public void Create_Diamond_MiddleRunsInParallel()
    {
        var plan = Plan(2, Ws("ws-a"), Ws("ws-b", "ws-a"), Ws("ws-c", "ws-a"), Ws("ws-d", "ws-b", "ws-c"));

        Assert.Equal([["ws-a"], ["ws-b", "ws-c"], ["ws-d"]], Waves(plan));
        Assert.Equal(3 * Hour, plan.CriticalPath.Duration);
        Assert.Equal(4 * Hour, plan.Estimates.Sequential);
        Assert.Equal(3 * Hour, plan.Estimates.Dispatch);
        Assert.Equal(["ws-b", "ws-c"], plan.Workstreams.Single(w => w.Id == "ws-d").Prerequisites);
    }

    [Fact]
    public void Create_Wide_WorkersBoundTheTime()
    {
        var plan = Plan(3, Enumerable.Range(0, 7).Select(i => Ws($"ws-{i}")).ToArray());

        Assert.Single(plan.Waves);
        Assert.Equal(7 * Hour, plan.Estimates.Sequential);
        Assert.Equal(3 * Hour, plan.Estimates.WaveBarrier); // ceil(7 / 3)
        Assert.Equal(3 * Hour, plan.Estimates.Dispatch);
        Assert.Equal(Hour, plan.CriticalPath.Duration);
    }

    [Fact]
    public void Create_Disconnected_EachComponentPlannedAndLongestIsCritical()
    {
        var plan = Plan(2, Ws("ws-x"), Ws("ws-y", "ws-x"), Ws("ws-lone"), Ws("ws-p"), Ws("ws-q", "ws-p"), Ws("ws-r", "ws-q"));

        Assert.Equal(["ws-p", "ws-q", "ws-r"], plan.CriticalPath.Workstreams);
        Assert.Equal(["ws-p", "ws-x", "ws-lone"], plan.Waves[0].Workstreams);
        Assert.Equal(3 * Hour, plan.Estimates.Dispatch);
    }

    [Fact]
    public void Create_NoBarriers_DispatchBeatsWaveByWave()
    {
        // ws-long (3h) and ws-short (1h) start together; ws-after-short can start at 1h without waiting for ws-long.
        var plan = Plan(2,
            Ws("ws-long") with { Estimate = 3 * Hour },
            Ws("ws-short"),
            Ws("ws-after-short", "ws-short") with { Estimate = 2 * Hour });

        Assert.Equal(5 * Hour, plan.Estimates.WaveBarrier);
        Assert.Equal(3 * Hour, plan.Estimates.Dispatch);
    }

    [Fact]
    public void Create_CriticalPathFirst_LongChainStartsBeforeShortWork()
    {
        // One worker and three tasks: the chain head must go first or the chain finishes late.
        var plan = Plan(2,
            Ws("ws-a-short1"), Ws("ws-a-short2"),
            Ws("ws-z-head"), Ws("ws-z-tail", "ws-z-head") with { Estimate = 2 * Hour });

        Assert.Equal("ws-z-head", plan.Waves[0].Workstreams[0]);
        Assert.Equal(3 * Hour, plan.Estimates.Dispatch);
    }

    [Fact]
    public void Create_ConflictGroup_SerializesItsMembers()
    {
        var plan = Plan(4,
            Ws("ws-a") with { ConflictGroup = "db" },
            Ws("ws-b") with { ConflictGroup = "db" },
            Ws("ws-c") with { ConflictGroup = "db" },
            Ws("ws-d"));

        var group = Assert.Single(plan.Waves[0].ConflictGroups);
        Assert.Equal("db", group.Group);
        Assert.Equal(["ws-a", "ws-b", "ws-c"], group.Workstreams);
        Assert.Equal(3 * Hour, plan.Estimates.Dispatch);
        Assert.Equal(3 * Hour, plan.Estimates.WaveBarrier);
    }

    [Fact]
    public void Create_ParallelOkFalse_RunsAlone()
    {
        var plan = Plan(4, Ws("ws-a"), Ws("ws-b"), Ws("ws-solo") with { ParallelOk = false });

        Assert.Equal(["ws-solo"], plan.Waves[0].Exclusive);
        // a and b together (1h), solo alone (1h).
        Assert.Equal(2 * Hour, plan.Estimates.Dispatch);
    }

    [Fact]
    public void Create_ExclusiveWaiting_IdleWorkersBackfillWithoutDelayingIt()
    {
        var ten = TimeSpan.FromMinutes(10);
        var plan = Plan(4,
            Ws("ws-a") with { ConflictGroup = "g", Estimate = ten },
            Ws("ws-b") with { ConflictGroup = "g", Estimate = ten },
            Ws("ws-c") with { ConflictGroup = "g", Estimate = ten },
            Ws("ws-d") with { ParallelOk = false, Estimate = ten },
            Ws("ws-e") with { Estimate = TimeSpan.FromMinutes(5) });

        // a, b, c one after another; d alone after them; e fits beside a without delaying anything.
        Assert.Equal(TimeSpan.FromMinutes(40), plan.Estimates.Dispatch);
    }

    [Fact]
    public void Create_ExclusiveWaiting_LongTaskDoesNotJumpAhead()
    {
        var plan = Plan(2,
            Ws("ws-a") with { Estimate = 2 * Hour },
            Ws("ws-b") with { ParallelOk = false, Estimate = 2 * Hour },
            Ws("ws-c") with { Estimate = 1.5 * Hour },
            Ws("ws-d") with { Estimate = 3 * Hour, ConflictGroup = "x" });

        // d (3h) runs first beside a (2h); b waits for the drain at 3h; c (1.5h) cannot backfill at 2h (it would end
        // at 3.5h) so it runs after b: 3h + 2h + 1.5h.
        Assert.Equal(6.5 * Hour, plan.Estimates.Dispatch);
    }

    [Fact]
    public void Create_InputOrder_DoesNotChangeThePlan()
    {
        var workstreams = new[]
        {
            Ws("ws-a"), Ws("ws-b", "ws-a"), Ws("ws-c", "ws-a") with { FilesScope = ["src/"] },
            Ws("ws-d", "ws-a") with { FilesScope = ["src/x.cs"], ConflictGroup = "g" }, Ws("ws-e") with { ConflictGroup = "g" },
            Ws("ws-f", "ws-b", "ws-c") with { Estimate = 2 * Hour },
        };
        var forward = Planner.Create(workstreams, new PlanOptions(2, Hour));
        var backward = Planner.Create(workstreams.Reverse().ToArray(), new PlanOptions(2, Hour));

        Assert.Equal(Waves(forward), Waves(backward));
        Assert.Equal(forward.CriticalPath.Workstreams, backward.CriticalPath.Workstreams);
        Assert.Equal(forward.Estimates, backward.Estimates);
        Assert.Equal(forward.Waves.SelectMany(w => w.Overlaps), backward.Waves.SelectMany(w => w.Overlaps));
    }

    [Fact]
    public void Create_DefaultEstimate_UsedAndMarked()
    {
        var plan = Plan(1, Ws("ws-a") with { Estimate = null });

        var a = Assert.Single(plan.Workstreams);
        Assert.True(a.EstimateIsDefault);
        Assert.Equal(TimeSpan.FromMinutes(30), a.Estimate);
    }

    [Fact]
    public void Create_BlocksEdge_OrdersLikeDependsOn()
    {
        var plan = Plan(2, Ws("ws-a") with { Blocks = [new DependencyRef("ws-b", default)] }, Ws("ws-b"));

        Assert.Equal([["ws-a"], ["ws-b"]], Waves(plan));
    }

    [Fact]
    public void Create_Cycle_ReportedFirstAsPath()
    {
        var ex = Assert.Throws<PlanException>(() => Plan(2, Ws("ws-a", "ws-c"), Ws("ws-b", "ws-a"), Ws("ws-c", "ws-b"), Ws("ws-zz", "ws-nope")));

        Assert.Contains("ws-a -> ws-c -> ws-b -> ws-a", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, ex.ExitCode);
    }

    [Fact]
    public void Create_UnknownDependency_Refused()
    {
        var ex = Assert.Throws<PlanException>(() => Plan(2, Ws("ws-a", "ws-ghost")));

        Assert.Contains("'ws-ghost'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_Empty_IsAnEmptyPlan()
    {
        var plan = Plan(2);

        Assert.Empty(plan.Waves);
        Assert.Equal(TimeSpan.Zero, plan.Estimates.Dispatch);
    }

    [Fact]
    public void Create_LongChain_NoStackOverflow()
    {
        var chain = Enumerable.Range(0, 100_000).Select(i => i == 0 ? Ws("ws-0") : Ws($"ws-{i}", $"ws-{i - 1}")).ToArray();

        var plan = Plan(8, chain);

        Assert.Equal(100_000, plan.Waves.Count);
        Assert.Equal(100_000, plan.CriticalPath.Workstreams.Count);
    }
}
