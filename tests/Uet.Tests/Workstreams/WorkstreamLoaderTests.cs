using Uet.Config;
using Uet.Tests.Support;
using Uet.Workstreams;
using Xunit;

namespace Uet.Tests.Workstreams;

public sealed class WorkstreamLoaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private WorkstreamSet Load(bool skipInvalid = false) =>
        WorkstreamLoader.Load(new WorkstreamSource([_dir.Path]), skipInvalid);

    private static Diagnostic SingleError(WorkstreamSet set, string code)
    {
        var error = Assert.Single(set.Diagnostics, d => d.IsError);
        Assert.Equal(code, error.Code);
        return error;
    }

    [Fact]
    public void Load_PlainJson_BindsEveryTypedField()
    {
        _dir.Write("ws-a.json", """
            {
              "id": "ws-a",
              "depends_on": ["ws-b"],
              "files_scope": ["src/a/**"],
              "files_create": ["src/a/new.cs"],
              "tasks": ["do a"],
              "tool": "command",
              "command": ["dotnet", "test"],
              "acceptance_tests": ["describe it", {"run": ["pytest", "-q"]}],
              "test_gates": [{"type": "GATE_UNIT", "required": true, "blocking": false}],
              "circuit_breaker": {"max_attempts": 3, "max_error_repeats": 2, "oscillation_threshold": 4},
              "parallel_ok": false,
              "conflict_group": "db",
              "timeout": "10m",
              "estimate": 90,
              "priority": "P1",
              "metadata": {"owner": "me"}
            }
            """);
        _dir.Write("ws-b.json", """{ "id": "ws-b" }""");

        var set = Load();

        Assert.Equal(0, set.ErrorCount);
        Assert.Equal(0, set.WarningCount);
        var a = set.Workstreams.Single(w => w.Id == "ws-a");
        Assert.Equal(["ws-b"], a.DependsOn.Select(d => d.Id));
        Assert.Equal(["src/a/**"], a.FilesScope);
        Assert.Equal(["src/a/new.cs"], a.FilesCreate);
        Assert.Equal(["dotnet", "test"], a.Command!);
        Assert.Equal("describe it", a.AcceptanceTests[0].Description);
        Assert.Equal(["pytest", "-q"], a.AcceptanceTests[1].Run!);
        Assert.Equal(new TestGate(ValidationGate.Unit, true, false), Assert.Single(a.TestGates));
        Assert.Equal(new CircuitBreakerSettings(3, 2, 4), a.CircuitBreaker);
        Assert.False(a.ParallelOk);
        Assert.Equal("db", a.ConflictGroup);
        Assert.Equal(TimeSpan.FromMinutes(10), a.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(90), a.Estimate);
        Assert.Equal("P1", a.Attributes["priority"]!.ToString());
        Assert.Equal("me", a.Attributes["metadata"]!["owner"]!.ToString());
    }

    [Fact]
    public void Load_JsonWithBlockAndLineComments_Loads()
    {
        _dir.Write("ws-c.json", """
            /* DOC_ID: DOC-1 */
            // a line comment
            {
              "id": "ws-c", // trailing comment
              /* inside */ "tasks": ["x"],
            }
            """);

        var set = Load();

        Assert.Equal(0, set.ErrorCount);
        Assert.Equal("ws-c", Assert.Single(set.Workstreams).Id);
    }

    [Fact]
    public void Load_ArrayOfWorkstreams_LoadsEachWithItsOwnLine()
    {
        _dir.Write("ws-many.json", """
            [
              { "id": "ws-one" },
              { "id": "ws-two", "depends_on": ["ws-one"] }
            ]
            """);

        var set = Load();

        Assert.Equal(["ws-one", "ws-two"], set.Workstreams.Select(w => w.Id));
        Assert.Equal(2, set.Workstreams[0].Location.Line);
        Assert.Equal(3, set.Workstreams[1].Location.Line);
    }

    [Fact]
    public void Load_Yaml_LoadsBothFormsAndBothDependencyShapes()
    {
        _dir.Write("ws-y.yaml", """
            - id: ws-y1
              files_scope: [docs/]
              estimate: 45m
            - id: ws-y2
              dependencies:
                depends_on: [ws-y1]
                blocks: [ws-y3]
                prerequisite_tools: [gh]
            """);
        _dir.Write("ws-y3.yml", """
            id: ws-y3
            parallel_ok: false
            """);

        var set = Load();

        Assert.Equal(0, set.ErrorCount);
        var y2 = set.Workstreams.Single(w => w.Id == "ws-y2");
        Assert.Equal(["ws-y1"], y2.DependsOn.Select(d => d.Id));
        Assert.Equal(["ws-y3"], y2.Blocks.Select(d => d.Id));
        Assert.True(y2.Extra.ContainsKey("dependencies.prerequisite_tools"));
        Assert.Equal(TimeSpan.FromMinutes(45), set.Workstreams.Single(w => w.Id == "ws-y1").Estimate);
        Assert.False(set.Workstreams.Single(w => w.Id == "ws-y3").ParallelOk);
    }

    [Fact]
    public void Load_UnknownKeys_KeptAndWarnedAtTheirLine()
    {
        _dir.Write("ws-u.json", """
            {
              "id": "ws-u",
              "owner": "team-a",
              "risks": [{"level": "high"}]
            }
            """);

        var set = Load();

        Assert.Equal(0, set.ErrorCount);
        var warnings = set.Diagnostics.Where(d => d.Code == DiagnosticCodes.UnknownKey).ToList();
        Assert.Equal([3, 4], warnings.Select(w => w.Location.Line));
        Assert.Contains("'owner'", warnings[0].Message, StringComparison.Ordinal);
        var ws = Assert.Single(set.Workstreams);
        Assert.Equal("team-a", ws.Extra["owner"]!.ToString());
        Assert.Equal("high", ws.Extra["risks"]![0]!["level"]!.ToString());
    }

    [Fact]
    public void Load_DuplicateDependencyEntries_WarnedAndCountedOnce()
    {
        _dir.Write("ws-d.json", """
            {
              "id": "ws-d",
              "depends_on": ["ws-e", "ws-e"],
              "dependencies": { "depends_on": ["ws-e"] }
            }
            """);
        _dir.Write("ws-e.json", """{ "id": "ws-e" }""");

        var set = Load();

        Assert.Equal(0, set.ErrorCount);
        Assert.Equal(2, set.Diagnostics.Count(d => d.Code == DiagnosticCodes.DuplicateDependency));
        Assert.Single(set.Workstreams.Single(w => w.Id == "ws-d").DependsOn);
    }

    [Fact]
    public void Load_UnparsableJson_ErrorNamesFileLineAndColumn()
    {
        var file = _dir.Write("ws-bad.json", "{\n  \"id\": \"ws-bad\",\n  \"gate\": {1}\n}\n");

        var set = Load();

        var error = SingleError(set, DiagnosticCodes.Unparsable);
        Assert.Equal(new SourceLocation(file, 3, 12), error.Location);
        Assert.StartsWith("not valid JSON", error.Message, StringComparison.Ordinal);
        Assert.Empty(set.Workstreams);
    }

    [Fact]
    public void Load_MissingId_IsAnErrorAtTheObject()
    {
        var file = _dir.Write("ws-x.json", "[\n  { \"tasks\": [\"a\"] }\n]");

        var error = SingleError(Load(), DiagnosticCodes.MissingId);

        Assert.Equal(new SourceLocation(file, 2, 3), error.Location);
    }

    [Theory]
    [InlineData("\"WS-Upper\"", "malformed id 'WS-Upper'")]
    [InlineData("\"task-1\"", "malformed id 'task-1'")]
    [InlineData("\"{ws-abs-001}\"", "malformed id '{ws-abs-001}'")]
    [InlineData("42", "'id' must be a string")]
    public void Load_MalformedId_IsAnErrorAtTheValue(string idJson, string expected)
    {
        var file = _dir.Write("ws-m.json", $"{{\n  \"id\": {idJson}\n}}");

        var error = SingleError(Load(), DiagnosticCodes.MalformedId);

        Assert.Equal(new SourceLocation(file, 2, 9), error.Location);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_DuplicateId_ErrorNamesBothFiles()
    {
        var first = _dir.Write("ws-1.json", """{ "id": "ws-same" }""");
        var second = _dir.Write("ws-2.json", """{ "id": "ws-same" }""");

        var error = SingleError(Load(), DiagnosticCodes.DuplicateId);

        Assert.Equal(second, error.Location.File);
        Assert.Contains(first, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnknownDependency_ErrorAtTheEntryWithSuggestion()
    {
        var file = _dir.Write("ws-a.json", "{\n  \"id\": \"ws-a\",\n  \"depends_on\": [\n    \"ws-cor\"\n  ]\n}");
        _dir.Write("ws-core.json", """{ "id": "ws-core" }""");

        var error = SingleError(Load(), DiagnosticCodes.UnknownDependency);

        Assert.Equal(new SourceLocation(file, 4, 5), error.Location);
        Assert.Contains("'ws-cor', which no workstream defines", error.Message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'ws-core'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Cycle_PrintedAsPath()
    {
        _dir.Write("ws-a.json", """{ "id": "ws-a", "depends_on": ["ws-b"] }""");
        _dir.Write("ws-b.json", """{ "id": "ws-b", "depends_on": ["ws-a"] }""");
        _dir.Write("ws-c.json", """{ "id": "ws-c", "depends_on": ["ws-c"] }""");

        var set = Load();

        var cycles = set.Diagnostics.Where(d => d.Code == DiagnosticCodes.Cycle).Select(d => d.Message).ToList();
        Assert.Equal(2, cycles.Count);
        Assert.Contains(cycles, m => m.Contains("ws-a -> ws-b -> ws-a", StringComparison.Ordinal));
        Assert.Contains(cycles, m => m.Contains("ws-c -> ws-c", StringComparison.Ordinal));
        Assert.Empty(set.Workstreams);
    }

    [Fact]
    public void Load_CycleThroughBlocks_Detected()
    {
        _dir.Write("ws-a.json", """{ "id": "ws-a", "dependencies": { "blocks": ["ws-b"] } }""");
        _dir.Write("ws-b.json", """{ "id": "ws-b", "dependencies": { "blocks": ["ws-a"] } }""");

        var error = SingleError(Load(), DiagnosticCodes.Cycle);

        Assert.Contains("ws-a -> ws-b -> ws-a", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/etc/passwd", "is absolute")]
    [InlineData("C:\\\\repo\\\\x.cs", "is absolute")]
    [InlineData("src/../../secret", "contains '..'")]
    [InlineData(".git/config", "points into .git/")]
    [InlineData("sub/.git/hooks/pre-commit", "points into .git/")]
    public void Load_ScopePathEscapingTheRepository_IsAnError(string path, string expected)
    {
        var file = _dir.Write("ws-s.json", $"{{\n  \"id\": \"ws-s\",\n  \"files_scope\": [\"ok/path\", \"{path}\"]\n}}");

        var error = SingleError(Load(), DiagnosticCodes.InvalidScopePath);

        Assert.Equal(file, error.Location.File);
        Assert.Equal(3, error.Location.Line);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_DotGithubFolder_IsNotMistakenForGit()
    {
        _dir.Write("ws-g.json", """{ "id": "ws-g", "files_scope": [".github/workflows/", ".gitignore"] }""");

        Assert.Equal(0, Load().ErrorCount);
    }

    [Fact]
    public void Load_CommandAsShellString_IsRefused()
    {
        _dir.Write("ws-c.json", """{ "id": "ws-c", "command": "rm -rf / && echo" }""");

        var error = SingleError(Load(), DiagnosticCodes.WrongType);

        Assert.Contains("never runs commands through a shell", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Strict_OneErrorMakesTheSetUnusable()
    {
        _dir.Write("ws-ok.json", """{ "id": "ws-ok" }""");
        _dir.Write("ws-bad.json", "{ nope");

        var set = Load();

        Assert.False(set.IsUsable);
        Assert.Empty(set.Workstreams);
    }

    [Fact]
    public void Load_SkipInvalid_LoadsTheRestAndSkipsDependentsToo()
    {
        _dir.Write("ws-ok.json", """{ "id": "ws-ok" }""");
        _dir.Write("ws-bad.json", """{ "id": "ws-bad", "files_scope": ["../x"] }""");
        _dir.Write("ws-child.json", """{ "id": "ws-child", "depends_on": ["ws-bad"] }""");
        _dir.Write("ws-grandchild.json", """{ "id": "ws-grandchild", "depends_on": ["ws-child", "ws-ok"] }""");
        _dir.Write("ws-broken.json", "[");

        var set = Load(skipInvalid: true);

        Assert.True(set.IsUsable);
        Assert.Equal(["ws-ok"], set.Workstreams.Select(w => w.Id));
        Assert.Equal(4, set.Skipped.Count);
        Assert.Contains(set.Skipped, s => s.Id is null && s.Location.File.EndsWith("ws-broken.json", StringComparison.Ordinal));
        Assert.Contains(set.Skipped, s => s.Id == "ws-grandchild" && s.Reason.Contains("ws-child", StringComparison.Ordinal));
        Assert.Contains("contains '..'", set.Skipped.Single(s => s.Id == "ws-bad").Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SkipInvalidWithCycle_SkipsTheCycleOnly()
    {
        _dir.Write("ws-a.json", """{ "id": "ws-a", "depends_on": ["ws-b"] }""");
        _dir.Write("ws-b.json", """{ "id": "ws-b", "depends_on": ["ws-a"] }""");
        _dir.Write("ws-c.json", """{ "id": "ws-c" }""");

        var set = Load(skipInvalid: true);

        Assert.Equal(["ws-c"], set.Workstreams.Select(w => w.Id));
        Assert.All(set.Skipped, s => Assert.Contains("cycle", s.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public void Load_PatternFiltersFilesInFolders()
    {
        _dir.Write("ws-a.json", """{ "id": "ws-a" }""");
        _dir.Write("other.json", "not json at all");
        _dir.Write("ws-b.yaml", "id: ws-b");

        var set = WorkstreamLoader.Load(new WorkstreamSource([_dir.Path], "ws-*.json"), skipInvalid: false);

        Assert.Equal(["ws-a"], set.Workstreams.Select(w => w.Id));
        Assert.Equal(1, set.FileCount);
    }

    [Fact]
    public void Load_MissingFolder_IsAUsageError()
    {
        var ex = Assert.Throws<UsageException>(() =>
            WorkstreamLoader.Load(new WorkstreamSource([Path.Combine(_dir.Path, "nope")]), skipInvalid: false));

        Assert.Equal(2, ex.ExitCode);
        Assert.Contains("does not exist", ex.Message, StringComparison.Ordinal);
    }
}
