using Uet.Workstreams;
using Xunit;

namespace Uet.Tests.Workstreams;

/// <summary>The real files written for the original system (a copy lives in Fixtures/upstream-workstreams).</summary>
public sealed class UpstreamCorpusTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "upstream-workstreams");

    private static WorkstreamSet Load(bool skipInvalid) =>
        WorkstreamLoader.Load(new WorkstreamSource([Folder], "ws-*.json"), skipInvalid);

    [Fact]
    public void Load_SkipInvalid_LoadsEveryValidWorkstreamAndSkipsTheTwelveBrokenFiles()
    {
        var set = Load(skipInvalid: true);

        Assert.Equal(54, set.FileCount);
        Assert.Equal(42, set.Workstreams.Count);
        Assert.Equal(12, set.Skipped.Count);
        Assert.All(set.Skipped, s =>
        {
            Assert.Null(s.Id);
            Assert.Matches(@"ws-abs-0\d\d-[a-z-]+\.json$", s.Location.File);
            // "duration_days": {3} — the first thing JSON cannot read, on line 8.
            Assert.Equal(8, s.Location.Line);
        });
        Assert.All(set.Diagnostics.Where(d => d.IsError), d => Assert.Equal(DiagnosticCodes.Unparsable, d.Code));
    }

    [Fact]
    public void Load_Strict_ReportsTheSameTwelveFilesAndLoadsNothing()
    {
        var strict = Load(skipInvalid: false);
        var lenient = Load(skipInvalid: true);

        Assert.False(strict.IsUsable);
        Assert.Empty(strict.Workstreams);
        Assert.Equal(12, strict.ErrorCount);
        Assert.Equal(
            lenient.Diagnostics.Where(d => d.IsError).Select(d => d.ToString()),
            strict.Diagnostics.Where(d => d.IsError).Select(d => d.ToString()));
    }

    [Fact]
    public void Load_RealFiles_DependencyShapesAndDuplicatesHandled()
    {
        var set = Load(skipInvalid: true);

        var next4 = set.Workstreams.Single(w => w.Id == "ws-next-004-refactor-2-execution");
        Assert.Equal(["ws-next-001-github-project-integration", "ws-next-002-fix-reachability-analyzer"], next4.DependsOn.Select(d => d.Id));
        var next1 = set.Workstreams.Single(w => w.Id == "ws-next-001-github-project-integration");
        Assert.Equal(["ws-next-004-refactor-2-execution"], next1.Blocks.Select(d => d.Id));
        // ws-18 lists ws-10 and ws-12 twice each.
        Assert.Equal(2, set.Diagnostics.Count(d => d.Code == DiagnosticCodes.DuplicateDependency && d.Location.File.EndsWith("ws-18-update-infrastructure-scripts.json", StringComparison.Ordinal)));
    }

    [Fact]
    public void Load_ExampleFiles_SingleAndMultiWithCommentsLoad()
    {
        var set = WorkstreamLoader.Load(
            new WorkstreamSource([Path.Combine(Folder, "example_single.json"), Path.Combine(Folder, "example_multi.json")]),
            skipInvalid: false);

        Assert.Equal(0, set.ErrorCount);
        Assert.Equal(["ws-hello-world", "ws-core-lib", "ws-api-layer", "ws-cli"], set.Workstreams.Select(w => w.Id));
    }
}
