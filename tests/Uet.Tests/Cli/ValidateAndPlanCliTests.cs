using System.Text.Json;
using Uet.Workstreams;
using Uet.Tests.Support;
using Xunit;

namespace Uet.Tests.Cli;

/// <summary>The <c>uet</c> program run as a process on the real upstream files: exit codes and output.</summary>
public sealed class ValidateAndPlanCliTests : IDisposable
{
    private static readonly string Corpus = Path.Combine(AppContext.BaseDirectory, "Fixtures", "upstream-workstreams");
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private CliResult Uet(params string[] args) => CliRunner.Uet(_dir.Path, args);

    [Fact]
    public void Validate_UpstreamFolderStrict_Exits1AndNamesEachBrokenFileWithLine()
    {
        var result = Uet("validate", Corpus, "--pattern", "ws-*.json");

        Assert.True(result.ExitCode == 1, result.ToString());
        for (var i = 1; i <= 12; i++)
        {
            Assert.Matches($@"ws-abs-0{i:D2}-[a-z-]+\.json:8:21: error UET001: not valid JSON", result.Stdout);
        }

        Assert.Contains("invalid: 0 workstreams loaded from 54 files; 12 errors", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UpstreamFolderSkipInvalid_Exits0AndListsTheSameFiles()
    {
        var strict = Uet("validate", Corpus, "--pattern", "ws-*.json");
        var result = Uet("validate", Corpus, "--pattern", "ws-*.json", "--skip-invalid");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("42 workstreams loaded from 54 files; 12 errors", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Skipped (12):", result.Stdout, StringComparison.Ordinal);
        static IEnumerable<string> Errors(string text) => text.Split('\n').Where(l => l.Contains(": error ", StringComparison.Ordinal));
        Assert.Equal(Errors(strict.Stdout), Errors(result.Stdout));
    }

    [Fact]
    public void Validate_Json_IsMachineReadable()
    {
        var result = Uet("validate", Corpus, "-p", "ws-*.json", "--skip-invalid", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal("uet.validate/1", doc.RootElement.GetProperty("format").GetString());
        Assert.Equal(12, doc.RootElement.GetProperty("errors").GetInt32());
        Assert.Equal(42, doc.RootElement.GetProperty("workstreams").GetArrayLength());
        Assert.Equal(12, doc.RootElement.GetProperty("skipped").GetArrayLength());
    }

    [Fact]
    public void Plan_UpstreamFolder_PrintsWavesCriticalPathOverlapsAndEstimates()
    {
        var result = Uet("plan", Corpus, "-p", "ws-*.json", "--skip-invalid", "--workers", "4");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("42 workstreams in 8 waves, 4 workers", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Critical path (4h, 8 workstreams)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("ws-12-error-shared-utils -> ws-13-refactor-error-plugins", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Likely merge conflicts: 3 pairs", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Sequential (1 worker)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Wave by wave", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("critical path first, no barriers", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_Json_StableAndComplete()
    {
        var first = Uet("plan", Corpus, "-p", "ws-*.json", "--skip-invalid", "--format", "json", "-w", "4");
        var second = Uet("plan", Corpus, "-p", "ws-*.json", "--skip-invalid", "--json", "-w", "4");

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(first.Stdout, second.Stdout);
        using var doc = JsonDocument.Parse(first.Stdout);
        var root = doc.RootElement;
        Assert.Equal("uet.plan/1", root.GetProperty("format").GetString());
        Assert.Equal(42, root.GetProperty("workstream_count").GetInt32());
        Assert.Equal(8, root.GetProperty("waves").GetArrayLength());
        Assert.Equal(14400, root.GetProperty("critical_path").GetProperty("seconds").GetDouble());
        Assert.Equal(12, root.GetProperty("skipped").GetArrayLength());
        var estimates = root.GetProperty("estimates");
        Assert.Equal(42 * 1800, estimates.GetProperty("sequential_seconds").GetDouble());
        Assert.Equal(7 * 3600, estimates.GetProperty("wave_barrier_seconds").GetDouble());
        Assert.Equal(5.5 * 3600, estimates.GetProperty("dispatch_seconds").GetDouble());
    }

    [Fact]
    public void Plan_MermaidAndDot_AreGraphs()
    {
        var mermaid = Uet("plan", Corpus, "-p", "ws-*.json", "--skip-invalid", "--format", "mermaid");
        var dot = Uet("plan", Corpus, "-p", "ws-*.json", "--skip-invalid", "--format", "dot");

        Assert.StartsWith("flowchart LR", mermaid.Stdout, StringComparison.Ordinal);
        Assert.Contains("[\"ws-12-error-shared-utils\"]", mermaid.Stdout, StringComparison.Ordinal);
        Assert.StartsWith("digraph uet {", dot.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"ws-12-error-shared-utils\" -> \"ws-13-refactor-error-plugins\" [color=red", dot.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_InvalidWithoutSkip_Exits1WithErrorsOnStderr()
    {
        var result = Uet("plan", Corpus, "-p", "ws-*.json");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("error UET001", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout.Trim());
    }

    [Fact]
    public void Plan_Cycle_Exits1AndPrintsThePath()
    {
        _dir.Write("ws/ws-a.json", """{ "id": "ws-a", "depends_on": ["ws-b"] }""");
        _dir.Write("ws/ws-b.json", """{ "id": "ws-b", "depends_on": ["ws-a"] }""");

        var result = Uet("plan", "ws");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("dependency cycle: ws-a -> ws-b -> ws-a", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("plan", "--workers", "0")]
    [InlineData("plan", "--format", "xml")]
    [InlineData("plan", "--no-such-option")]
    [InlineData("frobnicate")]
    [InlineData("validate", "does-not-exist")]
    [InlineData("validate", ".", "--pattern", "nothing-*.json")]
    public void UsageErrors_Exit2WithoutStackTrace(params string[] args)
    {
        var result = Uet(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("uet: ", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_ListsTheCommands()
    {
        var result = Uet("--help");

        Assert.Equal(0, result.ExitCode);
        foreach (var command in new[] { "init", "validate", "plan", "schema" })
        {
            Assert.Contains(command, result.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Schema_IsJsonSchemaNamingEveryField()
    {
        var result = Uet("schema");

        Assert.Equal(0, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        var properties = doc.RootElement.GetProperty("$defs").GetProperty("workstream").GetProperty("properties");
        foreach (var field in WorkstreamBinder.TypedFields.Concat(WorkstreamBinder.KeptFields))
        {
            Assert.True(properties.TryGetProperty(field, out _), $"schema lacks '{field}'");
        }
    }
}
