using Uet.Planning;
using Xunit;

namespace Uet.Tests.Planning;

public sealed class ScopeOverlapTests
{
    [Theory]
    [InlineData("src/a.cs", "src/a.cs", true)]
    [InlineData("src/a.cs", "src/b.cs", false)]
    [InlineData("src/", "src/deep/file.cs", true)]
    [InlineData("src/utils", "src/utils/x.py", true)]
    [InlineData("src/utils", "src/utilsx/x.py", false)]
    [InlineData("src/*.py", "src/a.py", true)]
    [InlineData("src/*.py", "src/a.cs", false)]
    [InlineData("core/**/*.py", "core/engine/adapters/x.py", true)]
    [InlineData("scripts/aim_*.py", "scripts/ccpm_*.sh", false)]
    [InlineData("scripts/aim_*.py", "scripts/aim_status*.py", true)]
    [InlineData("./docs/", "docs/adr/x.md", true)]
    [InlineData("docs", "src", false)]
    public void Intersect_Patterns_AsExpected(string a, string b, bool expected)
    {
        var sa = ScopeOverlapFinder.Normalize(a);
        var sb = ScopeOverlapFinder.Normalize(b);

        Assert.Equal(expected, ScopeOverlapFinder.Intersect(sa, sb));
        Assert.Equal(expected, ScopeOverlapFinder.Intersect(sb, sa));
    }

    [Fact]
    public void Create_OverlapsOnlyWithinTheSameWave()
    {
        var plan = Planner.Create(
            [
                PlannerTests.Ws("ws-a") with { FilesScope = ["config/"] },
                PlannerTests.Ws("ws-b") with { FilesScope = ["config/router.yaml"] },
                PlannerTests.Ws("ws-c", "ws-a") with { FilesScope = ["config/"] },
                PlannerTests.Ws("ws-d") with { FilesScope = ["docs/"], FilesCreate = ["config/new.yaml"] },
            ],
            new PlanOptions(2, TimeSpan.FromMinutes(1)));

        Assert.Equal(
            [("ws-a", "ws-b"), ("ws-a", "ws-d")],
            plan.Waves[0].Overlaps.Select(o => (o.A, o.B)));
        Assert.Empty(plan.Waves[1].Overlaps);
        Assert.False(plan.Waves[0].OverlapsTruncated);
    }

    [Fact]
    public void Create_ManyOverlaps_CutAtTheLimitAndSaidSo()
    {
        var many = Enumerable.Range(0, 20).Select(i => PlannerTests.Ws($"ws-{i:D2}") with { FilesScope = ["shared/"] }).ToArray();

        var plan = Planner.Create(many, new PlanOptions(2, TimeSpan.FromMinutes(1), MaxOverlapsPerWave: 10));

        Assert.Equal(10, plan.Waves[0].Overlaps.Count);
        Assert.True(plan.Waves[0].OverlapsTruncated);
    }
}
