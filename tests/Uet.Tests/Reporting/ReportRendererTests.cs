using System.Xml.Linq;
using Uet.Reporting;
using Uet.Tests.Support;
using Xunit;

namespace Uet.Tests.Reporting;

/// <summary>The renderers are pure functions of the report: what they do with awkward text, in memory.</summary>
public sealed class ReportRendererTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static ExecutionReport Sample(string reason) => new(
        "r-1", "failed", "1 completed, 1 failed", Start, Start, Start.AddSeconds(10), 10_000, Start.AddSeconds(20), 2,
        [new StateCount("completed", 1), new StateCount("failed", 1)],
        [new StateCount("committed", 1), new StateCount("rolled_back", 1)],
        new ReportTimes(10_000, 15_000, 12_000, 600_000, 480_000, 360_000),
        new CriticalPathComparison(new PathTimes(["ws-a"], 300_000, 4_000), new PathTimes(["ws-b"], 300_000, 11_000)),
        [
            new WorkstreamRow("ws-a", 1, "completed", 1, 4_000, 300_000, "w-1", Start, Start.AddSeconds(4), "committed", new string('a', 64), ["A a.txt"], 2, 0, "c0ffee", "validators passed", null),
            new WorkstreamRow("ws-b", 1, "failed", 2, 11_000, 300_000, "w-2", Start, Start.AddSeconds(11), "rolled_back", new string('b', 64), ["M b.txt"], 1, 1, null, reason, "patch rolled back: " + reason),
        ],
        [new WaveRow(1, ["ws-a", "ws-b"], [new StateCount("completed", 1), new StateCount("failed", 1)], Start, Start.AddSeconds(11), 300_000)],
        [
            new GanttLane("w-1", [new GanttBar("ws-a", 1, "completed", 0, 4_000)]),
            new GanttLane("w-2", [new GanttBar("ws-b", 1, "failed", 0, 3_000), new GanttBar("ws-b", 2, "failed", 3_500, 10_000)]),
        ],
        [new Incident("ws-b", 1, "exit code 3", Start.AddSeconds(3))],
        [],
        [new Incident("ws-b", 2, reason, Start.AddSeconds(10))],
        [new WorkerUsage("w-1", 1, 4_000, 0.4), new WorkerUsage("w-2", 2, 9_500, 0.95)]);

    [Fact]
    public void Times_Speedups_AreWorkAndWaveBarrierOverWall()
    {
        var report = Sample("x");
        Assert.Equal(1.5, report.Times.SpeedupVsSequential);
        Assert.Equal(1.2, report.Times.SpeedupVsWaveBarrier);
        Assert.Equal(13_500 / 20_000.0, report.OverallUtilization);
    }

    [Fact]
    public void Markdown_PipesNewlinesAndMermaidNames_StayInTheirCells()
    {
        var markdown = MarkdownReport.Render(Sample("validator a|b failed:\nline two"));
        Assert.Contains("validator a\\|b failed:", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("\nline two", markdown, StringComparison.Ordinal);
        Assert.Contains("    section w-2\n    ws-b (1) :crit, b2, 0, 3000\n    ws-b (2) :crit, b3, 3500, 10000\n", markdown, StringComparison.Ordinal);
        Assert.Contains("| speedup vs sequential | 1.50x | 1.67x |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_ALongRunsChart_DrawsItsFirstAttemptsOnly_SoMermaidCanRenderIt()
    {
        // 3 workers, 700 attempts in all, interleaved in time.
        var lanes = Enumerable.Range(0, 3).Select(w => new GanttLane($"w-{w}",
            Enumerable.Range(0, 700).Where(i => i % 3 == w).Select(i => new GanttBar($"ws-{i:D4}", 1, "completed", i * 10L, (i * 10L) + 9)).ToList())).ToList();
        var report = Sample("x") with { Lanes = lanes };

        var markdown = MarkdownReport.Render(report);

        var chart = MermaidBlock(markdown);
        var bars = chart.Split('\n').Where(l => l.Contains(":done, ", StringComparison.Ordinal)).ToList();
        Assert.Equal(MermaidGantt.MaxBars, bars.Count);
        Assert.Contains(bars, b => b.StartsWith("    ws-0499 (1)", StringComparison.Ordinal));
        Assert.DoesNotContain(bars, b => b.StartsWith("    ws-0500 (1)", StringComparison.Ordinal));
        Assert.True(chart.Length < 50_000, $"{chart.Length} characters");
        Assert.Equal(3, chart.Split('\n').Count(l => l.StartsWith("    section ", StringComparison.Ordinal)));
        Assert.Contains("The chart draws the first 500 attempts; 200 more are in the HTML report's chart", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("The chart draws the first", MarkdownReport.Render(Sample("x")), StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_LongWorkstreamIds_TheChartStillFitsMermaidsLimit()
    {
        var lanes = Enumerable.Range(0, 8).Select(w => new GanttLane($"w-{w}",
            Enumerable.Range(0, 10_000).Where(i => i % 8 == w).Select(i => new GanttBar($"ws-{i:D6}-" + new string('x', 70), 1, "completed", i * 10L, (i * 10L) + 9)).ToList())).ToList();
        var report = Sample("x") with { Lanes = lanes };

        var markdown = MarkdownReport.Render(report);

        var chart = MermaidBlock(markdown);
        var drawn = chart.Split('\n').Count(l => l.Contains(":done, ", StringComparison.Ordinal));
        Assert.True(chart.Length < 50_000, $"{chart.Length} characters");
        Assert.InRange(drawn, 100, MermaidGantt.MaxBars);
        Assert.Contains($"The chart draws the first {drawn} attempts; {10_000 - drawn} more are in the HTML report's chart", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_AWaveOfThousands_ListsItsFirstIdsAndHowManyMore()
    {
        var ids = Enumerable.Range(0, 3000).Select(i => $"ws-{i:D4}").ToList();
        var report = Sample("x") with { Waves = [new WaveRow(1, ids, [new StateCount("completed", 3000)], Start, Start.AddSeconds(1), 1_000)] };

        var row = MarkdownReport.Render(report).Split('\n').Single(l => l.StartsWith("| 1 |", StringComparison.Ordinal));

        Assert.Contains("ws-0000, ws-0001", row, StringComparison.Ordinal);
        Assert.Contains("ws-0019, and 2980 more |", row, StringComparison.Ordinal);
        Assert.DoesNotContain("ws-0020", row, StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_ToolOutputInReasons_CannotBecomeHtmlLinksOrImages()
    {
        var markdown = MarkdownReport.Render(Sample("failed: <img src=x onerror=alert(1)> ![t](https://example.invalid/p.png) `x`"));

        Assert.DoesNotContain("<img", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("![t](", markdown, StringComparison.Ordinal);
        Assert.Contains("&#60;img src=x onerror=alert(1)&#62; &#33;&#91;t&#93;(https://example.invalid/p.png) &#96;x&#96;", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Junit_ControlCharactersInReasons_AreDroppedAndTheXmlParses()
    {
        var xml = JunitReport.Render(Sample("\u001b[31mred\u001b[0m & <tag>"));
        var suite = XDocument.Parse(xml).Root!.Element("testsuite")!;
        Assert.Equal("2", suite.Attribute("tests")!.Value);
        Assert.Equal("1", suite.Attribute("failures")!.Value);
        Assert.Equal("10", suite.Attribute("time")!.Value);
        var failure = suite.Elements("testcase").Single(c => c.Attribute("name")!.Value == "ws-b").Element("failure")!;
        Assert.Equal("patch rolled back: [31mred[0m & <tag>", failure.Attribute("message")!.Value);
        Assert.Equal("rolled_back", failure.Attribute("type")!.Value);
    }

    [Fact]
    public void Html_TextIsEscapedAndEachWorkerIsALane()
    {
        var html = HtmlReport.Render(Sample("<script>alert(1)</script>"));
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;", html, StringComparison.Ordinal);
        Assert.Equal(2, html.Split("<g class=\"lane\"").Length - 1);
        Assert.Equal(3, html.Split("<rect class=\"bar ").Length - 1);
    }

    [Fact]
    public void Report_WithoutARun_SaysSoWithExitTwo()
    {
        using var dir = new TempDirectory();
        TestRepository.Create(dir.Path, init: true);
        var result = CliRunner.Uet(dir.Path, "report");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("uet: report: the state database has no run yet (uet run makes one)", result.Stderr.Trim());
        var unknown = CliRunner.Uet(dir.Path, "report", "r-nope");
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("r-nope", unknown.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", unknown.Stderr, StringComparison.Ordinal);
    }

    /// <summary>The Markdown report's Mermaid block, from its opening fence to the line before its closing one.</summary>
    private static string MermaidBlock(string markdown)
    {
        var chart = markdown[markdown.IndexOf("```mermaid", StringComparison.Ordinal)..];
        return chart[..chart.IndexOf("\n```\n", StringComparison.Ordinal)];
    }
}
