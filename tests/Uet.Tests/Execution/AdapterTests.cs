using Uet.Config;
using Uet.Execution.Adapters;
using Uet.Workstreams;
using Xunit;

namespace Uet.Tests.Execution;

public sealed class AdapterTests
{
    private static Workstream Ws(string id = "ws-a") => new() { Id = id, Location = new SourceLocation("ws-a.json", 1, 1), FilesScope = ["src/"], FilesCreate = ["docs/new.md"] };

    private static ToolContext Context(Workstream ws, ConfigMapping? toolConfig = null) =>
        new(ws, "r-1", 2, "/wt/ws-a-2", "/logs/2.prompt.md", toolConfig ?? ConfigMapping.Empty);

    [Fact]
    public void Command_PlaceholdersExpandedInsideArguments_EnvironmentSet()
    {
        var ws = Ws() with { Command = ["fix", "--prompt={prompt_file}", "{workstream_id}", "{scope}", "{worktree}", "#{attempt}", "{run_id}"] };

        var invocation = Assert.Single(new CommandAdapter().Prepare(Context(ws)));

        Assert.Equal(["fix", "--prompt=/logs/2.prompt.md", "ws-a", "src/,docs/new.md", "/wt/ws-a-2", "#2", "r-1"], invocation.Argv);
        Assert.Equal("r-1", invocation.Environment["UET_RUN_ID"]);
        Assert.Equal("ws-a", invocation.Environment["UET_WORKSTREAM_ID"]);
        Assert.Equal("2", invocation.Environment["UET_ATTEMPT"]);
        Assert.Equal("/logs/2.prompt.md", invocation.Environment["UET_PROMPT_FILE"]);
        Assert.Equal("src/,docs/new.md", invocation.Environment["UET_SCOPE"]);
    }

    [Fact]
    public void Command_ReadsAPrompt_OnlyWithTasksOrAPromptFilePlaceholder()
    {
        var adapter = new CommandAdapter();
        var plain = Ws() with { Command = ["sed", "-i", "s/a/b/", "x.txt"] };

        Assert.False(adapter.ReadsPrompt(plain, ConfigMapping.Empty));
        Assert.True(adapter.ReadsPrompt(plain with { Tasks = ["rename a to b"] }, ConfigMapping.Empty));
        Assert.True(adapter.ReadsPrompt(plain with { Command = ["agent", "--prompt={prompt_file}"] }, ConfigMapping.Empty));
        Assert.False(new TestsAdapter().ReadsPrompt(plain, ConfigMapping.Empty));
        Assert.True(new ClaudeAdapter().ReadsPrompt(plain, ConfigMapping.Empty));

        // Without a prompt file, no variable points at one.
        var invocation = Assert.Single(adapter.Prepare(Context(plain) with { PromptFile = null }));
        Assert.False(invocation.Environment.ContainsKey("UET_PROMPT_FILE"));
        Assert.Equal("ws-a", invocation.Environment["UET_WORKSTREAM_ID"]);
    }

    [Fact]
    public void Command_FromToolConfig_WhenTheWorkstreamHasNone()
    {
        var config = ConfigLoader.Parse("execution:\n  tool_config:\n    command:\n      argv: [make, \"fix-{workstream_id}\"]\n");
        var registry = new AdapterRegistry(config);

        var invocation = Assert.Single(new CommandAdapter().Prepare(Context(Ws(), registry.ToolConfig("command"))));

        Assert.Equal(["make", "fix-ws-a"], invocation.Argv);
    }

    [Fact]
    public void Tests_RunsOnlyTheAcceptanceCommands()
    {
        var ws = Ws() with { AcceptanceTests = [new AcceptanceTest("described", null), new AcceptanceTest(null, ["pytest", "-q"]), new AcceptanceTest(null, ["ruff", "check"])] };

        var invocations = new TestsAdapter().Prepare(Context(ws));

        Assert.Equal([["pytest", "-q"], ["ruff", "check"]], invocations.Select(i => i.Argv.ToArray()));
    }

    [Fact]
    public void Registry_ToolRoutingAndDefault()
    {
        var config = ConfigLoader.Parse("execution:\n  default_tool: tests\nadapters:\n  routing:\n    - pattern: \"ws-cmd-*\"\n      tool: command\n");
        var registry = new AdapterRegistry(config);

        Assert.Equal("command", registry.ToolOf(Ws("ws-cmd-1")));
        Assert.Equal("tests", registry.ToolOf(Ws("ws-other")));
        Assert.Equal("command", registry.ToolOf(Ws("ws-other") with { Tool = "command" }));
    }

    [Fact]
    public void Registry_Problems_NameEachWorkstreamAndWhy()
    {
        var registry = new AdapterRegistry(ConfigLoader.Parse("adapters:\n  enabled: [command]\n"));

        var problems = registry.Problems([Ws("ws-ai") with { Tool = "cursor" }, Ws("ws-nocmd") with { Tool = "command" }, Ws("ws-t") with { Tool = "tests" }, Ws("ws-ok") with { Command = ["true"] }]);

        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("ws-ai", StringComparison.Ordinal) && p.Contains("tool 'cursor' cannot run", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("ws-nocmd uses the command tool but has no \"command\"", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("ws-t", StringComparison.Ordinal) && p.Contains("not in adapters.enabled", StringComparison.Ordinal));
    }
}
