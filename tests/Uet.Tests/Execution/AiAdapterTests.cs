using System.Text.Json.Nodes;
using Uet.Config;
using Uet.Execution;
using Uet.Execution.Adapters;
using Uet.Tests.Support;
using Uet.Workstreams;
using Xunit;

namespace Uet.Tests.Execution;

/// <summary>The argv and environment each AI CLI gets, its settings, and the usage read back from its real output.</summary>
public sealed class AiAdapterTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly string _prompt;
    private readonly string _worktree;

    public AiAdapterTests()
    {
        _prompt = _dir.Write("logs/2.prompt.md", "# Workstream ws-a\n\n## Tasks\n\n- Add hello.txt\n");
        _worktree = Path.Combine(_dir.Path, "wt");
        Directory.CreateDirectory(Path.Combine(_worktree, "src"));
    }

    public void Dispose() => _dir.Dispose();

    private static Workstream Ws(string id = "ws-a") => new()
    {
        Id = id,
        Location = new SourceLocation("ws-a.json", 1, 1),
        FilesScope = ["src", "README.md", "lib/**/*.py"],
        FilesCreate = ["docs/new.md"],
    };

    private static ConfigMapping ToolConfig(string tool, string yaml) =>
        new AdapterRegistry(ConfigLoader.Parse($"execution:\n  tool_config:\n    {tool}:\n" + string.Join('\n', yaml.Split('\n').Select(l => "      " + l)) + "\n")).ToolConfig(tool);

    private ToolInvocation Prepare(ToolAdapter adapter, ConfigMapping? toolConfig = null) =>
        Assert.Single(adapter.Prepare(new ToolContext(Ws(), "r-1", 2, _worktree, _prompt, toolConfig ?? ConfigMapping.Empty)));

    [Fact]
    public void Codex_ExecNonInteractive_SandboxedToTheWorktree_PromptOnStdin()
    {
        var invocation = Prepare(new CodexAdapter(), ToolConfig("codex", "model: gpt-5-codex\nconfig:\n  model_provider: proxy\n  model_providers.proxy.base_url: http://127.0.0.1:9/v1\n  model_providers.proxy.request_max_retries: 0\nargs: [--enable, x]"));

        Assert.Equal(
            [
                "codex", "exec", "--json", "--color", "never", "--skip-git-repo-check", "--ephemeral",
                "--sandbox", "workspace-write", "-c", "approval_policy=\"never\"", "--model", "gpt-5-codex",
                "-c", "model_provider=\"proxy\"", "-c", "model_providers.proxy.base_url=\"http://127.0.0.1:9/v1\"", "-c", "model_providers.proxy.request_max_retries=0",
                "--enable", "x", "--", "-",
            ],
            invocation.Argv);
        Assert.Equal(_prompt, invocation.Stdin);
        Assert.Equal("ws-a", invocation.Environment["UET_WORKSTREAM_ID"]);
        Assert.Equal("1", invocation.Environment["NO_COLOR"]);
    }

    [Fact]
    public void Codex_DangerFullAccess_BypassesApprovalsAndSandbox()
    {
        var argv = Prepare(new CodexAdapter(), ToolConfig("codex", "sandbox: danger-full-access")).Argv;

        Assert.Contains("--dangerously-bypass-approvals-and-sandbox", argv);
        Assert.DoesNotContain("--sandbox", argv);
    }

    [Fact]
    public void Claude_PrintMode_AcceptEdits_JsonOutput_Model()
    {
        var invocation = Prepare(new ClaudeAdapter(), ToolConfig("claude", "model: claude-sonnet-4-5\nprogram: /opt/claude/bin/claude\ntimeout: 20m"));

        Assert.Equal(["/opt/claude/bin/claude", "-p", "--output-format", "json", "--permission-mode", "acceptEdits", "--model", "claude-sonnet-4-5"], invocation.Argv);
        Assert.Equal(_prompt, invocation.Stdin);
        Assert.Equal("1", invocation.Environment["DISABLE_AUTOUPDATER"]);
        Assert.Equal(TimeSpan.FromMinutes(20), invocation.Timeout);
    }

    [Fact]
    public void Gemini_Headless_AutoEdit_SkipTrust()
    {
        var invocation = Prepare(new GeminiAdapter(), ToolConfig("gemini", "model: gemini-2.5-flash\napproval_mode: yolo"));

        Assert.Equal(["gemini", "--output-format", "json", "--approval-mode", "yolo", "--skip-trust", "--model", "gemini-2.5-flash"], invocation.Argv);
        Assert.Equal(_prompt, invocation.Stdin);
    }

    [Fact]
    public void Aider_MessageFile_NoCommits_HistoriesOutsideTheWorktree_LiteralScopeFilesLast()
    {
        var invocation = Prepare(new AiderAdapter(), ToolConfig("aider", "model: gpt-4o\nargs: [--map-tokens, \"1024\"]\nenv:\n  AIDER_EDIT_FORMAT: diff"));
        var argv = invocation.Argv;

        Assert.Equal("aider", argv[0]);
        Assert.Equal(_prompt, argv[argv.ToList().IndexOf("--message-file") + 1]);
        Assert.Null(invocation.Stdin);
        foreach (var flag in new[] { "--yes-always", "--no-auto-commits", "--no-dirty-commits", "--no-gitignore", "--no-check-update", "--analytics-disable", "--no-pretty", "--no-fancy-input" })
        {
            Assert.Contains(flag, argv);
        }

        Assert.StartsWith(Path.Combine(_dir.Path, "logs"), argv[argv.ToList().IndexOf("--chat-history-file") + 1], StringComparison.Ordinal);
        Assert.StartsWith(Path.Combine(_dir.Path, "logs"), argv[argv.ToList().IndexOf("--input-history-file") + 1], StringComparison.Ordinal);
        Assert.Equal("gpt-4o", argv[argv.ToList().IndexOf("--model") + 1]);
        // User args come after uet's (argparse: the last --map-tokens wins); then the files: not the folder, not the glob.
        Assert.Equal(["--map-tokens", "1024", "README.md", "docs/new.md"], argv.TakeLast(4));
        Assert.Equal("diff", invocation.Environment["AIDER_EDIT_FORMAT"]);
    }

    [Fact]
    public void EveryAiAdapter_NoSecretInArgvOrEnvironment()
    {
        foreach (var adapter in AdapterRegistry.All.OfType<AiToolAdapter>())
        {
            var invocation = Prepare(adapter);

            Assert.DoesNotContain(invocation.Environment.Keys, Redactor.IsSecretName);
        }
    }

    [Fact]
    public void Problem_SecretInToolConfigEnv_Refused()
    {
        var problem = new ClaudeAdapter().Problem(Ws(), ToolConfig("claude", "program: /bin/sh\nenv:\n  ANTHROPIC_API_KEY: sk-ant-123456"));

        Assert.NotNull(problem);
        Assert.Contains("execution.tool_config.claude.env: ANTHROPIC_API_KEY looks like a secret", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Problem_SecretInCodexConfigOrInArgs_Refused_EnvKeyIsNoSecret()
    {
        Assert.StartsWith(
            "execution.tool_config.codex.config: model_providers.proxy.experimental_bearer_token looks like a secret",
            new CodexAdapter().Problem(Ws(), ToolConfig("codex", "program: /bin/sh\nconfig:\n  model_providers.proxy.experimental_bearer_token: sk-123456")),
            StringComparison.Ordinal);
        Assert.Null(new CodexAdapter().Problem(Ws(), ToolConfig("codex", "program: /bin/sh\nconfig:\n  model_providers.proxy.env_key: PROXY_API_KEY")));
        Assert.StartsWith(
            "execution.tool_config.aider.args: --openai-api-key passes a secret on the command line",
            new AiderAdapter().Problem(Ws(), ToolConfig("aider", "program: /bin/sh\nargs: [--openai-api-key=sk-123456]")),
            StringComparison.Ordinal);
        Assert.Null(new AiderAdapter().Problem(Ws(), ToolConfig("aider", "program: /bin/sh\nargs: [--no-pretty, --map-tokens, '1024']")));
    }

    [Fact]
    public void Redactor_PwdIsAWorkingDirectoryNotAPassword()
    {
        var redactor = Redactor.FromVariables([new("PWD", "/home/someone/project"), new("OLDPWD", "/tmp/previous"), new("DB_PASSWORD", "hunter2-secret")]);

        Assert.Equal("in /home/someone/project and /tmp/previous with ***", redactor.Clean("in /home/someone/project and /tmp/previous with hunter2-secret"));
    }

    [Fact]
    public void Usage_NegativeOrMalformedFigures_AreNoReading()
    {
        var claude = new ClaudeAdapter().ParseUsage("""{"type":"result","total_cost_usd":-5,"usage":{"input_tokens":-1,"output_tokens":7}}""", ConfigMapping.Empty);
        Assert.Null(claude?.CostUsd);
        Assert.Equal(7, claude?.OutputTokens);
        Assert.Null(new AiderAdapter().ParseUsage("Tokens: 1.2.3 sent, 5 received.\n", ConfigMapping.Empty));
    }

    [Fact]
    public void Problem_ProgramFoundOnTheToolsOwnPath_AndANonExecutableFileIsSkipped()
    {
        // As the executor will look it up: on tool_config.<tool>.env.PATH when set, taking only files it can run.
        var first = Path.Combine(_dir.Path, "first");
        var second = Path.Combine(_dir.Path, "second");
        _dir.Write("first/uet-test-gemini", "not a program\n");
        var real = _dir.Write("second/uet-test-gemini", "#!/bin/sh\n");
        CliRunner.Run(_dir.Path, "chmod", ["+x", real]);

        Assert.NotNull(new GeminiAdapter().Problem(Ws(), ToolConfig("gemini", "program: uet-test-gemini")));
        Assert.Null(new GeminiAdapter().Problem(Ws(), ToolConfig("gemini", $"program: uet-test-gemini\nenv: {{ PATH: \"{first}:{second}\" }}")));
        Assert.Equal(real, ProgramLocator.Find("uet-test-gemini", $"{first}:{second}"));
    }

    [Fact]
    public void Problem_NotInstalled_SaysWhatToDo()
    {
        var problem = new AiderAdapter().Problem(Ws(), ToolConfig("aider", "program: uet-no-such-aider"));

        Assert.Equal("ws-a uses aider, but 'uet-no-such-aider' is not installed (not found on PATH); install it or set execution.tool_config.aider.program", problem);
    }

    [Fact]
    public void Problem_UnknownOrWrongSetting_NamedWithItsPath()
    {
        Assert.Equal(
            "execution.tool_config.codex.sandbox: expected one of read-only, workspace-write, danger-full-access",
            new CodexAdapter().Problem(Ws(), ToolConfig("codex", "program: /bin/sh\nsandbox: off")));
        Assert.StartsWith(
            "execution.tool_config.gemini.modle: unknown setting of the gemini adapter",
            new GeminiAdapter().Problem(Ws(), ToolConfig("gemini", "program: /bin/sh\nmodle: x")),
            StringComparison.Ordinal);
        Assert.Equal(
            "execution.tool_config.claude.timeout: expected a duration such as 45m, 1h30m or 900 (seconds)",
            new ClaudeAdapter().Problem(Ws(), ToolConfig("claude", "program: /bin/sh\ntimeout: soon")));
        Assert.Null(new GeminiAdapter().Problem(Ws(), ToolConfig("gemini", "program: /bin/sh\nmodel: gemini-2.5-flash\ntimeout: 1h")));
    }

    [Fact]
    public void MaxCostUsd_NumberOrDollarText_Read_AnythingElseRefusedBeforeTheRun()
    {
        var registry = new AdapterRegistry(ConfigLoader.Parse("execution:\n  tool_config:\n    claude: {program: /bin/sh}\n    codex: {program: /bin/sh}\n    gemini: {program: /bin/sh, usd_per_1m_input_tokens: 0.3}\n"));
        Workstream With(JsonNode? limit, string tool = "claude") => new()
        {
            Id = "ws-c", Location = new SourceLocation("f", 1, 1), Tool = tool, Command = ["true"],
            Attributes = new Dictionary<string, JsonNode?> { ["max_cost_usd"] = limit },
        };

        Assert.Equal(2.5, ToolSpend.Limit(With(JsonValue.Create(2.5))));
        Assert.Equal(2.5, ToolSpend.Limit(With(JsonValue.Create("$2.50"))));
        Assert.Null(registry.Problem(With(JsonValue.Create(0))));
        Assert.Equal("ws-c: max_cost_usd must be a number of US dollars, at least 0 (such as 2.5), got \"lots\"", registry.Problem(With(JsonValue.Create("lots"))));
        Assert.NotNull(registry.Problem(With(JsonValue.Create(-1))));

        // A limit nothing can measure is refused, not silently ignored: codex prints no cost unless its tokens are priced.
        Assert.Equal(
            "ws-c: its max_cost_usd cannot be enforced: codex prints tokens but no cost; set execution.tool_config.codex.usd_per_1m_input_tokens and usd_per_1m_output_tokens to price them",
            registry.Problem(With(JsonValue.Create(1), "codex")));
        Assert.Null(registry.Problem(With(JsonValue.Create(1), "gemini")));
        Assert.Equal("ws-c: its max_cost_usd cannot be enforced: the command tool reports no cost", registry.Problem(With(JsonValue.Create(1), "command")));
    }

    [Fact]
    public void Usage_Claude_CostAndTokensOfEveryModel()
    {
        var output = "# $ claude -p ...\n"
            + """{"type":"result","subtype":"success","is_error":false,"num_turns":2,"result":"Done.","total_cost_usd":0.00875,"usage":{"input_tokens":2000,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":100},"modelUsage":{"claude-haiku-4-5-20251001":{"inputTokens":1000,"outputTokens":50,"cacheReadInputTokens":0,"cacheCreationInputTokens":0,"costUSD":0.00125},"claude-sonnet-4-5":{"inputTokens":2000,"outputTokens":100,"cacheReadInputTokens":10,"cacheCreationInputTokens":0,"costUSD":0.0075}}}"""
            + "\n# uet: exit code 0 after 2.1 s\n";

        var usage = new ClaudeAdapter().ParseUsage(output, ConfigMapping.Empty);

        Assert.Equal(new Uet.State.ToolUsage(0.00875, 3010, 150), usage);
    }

    [Fact]
    public void Usage_Codex_TokensOfEveryTurn_PricedWhenConfigured()
    {
        var output = """
            WARNING: proceeding, even though we could not create PATH aliases
            {"type":"thread.started","thread_id":"01a2"}
            {"type":"turn.started"}
            {"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"Done."}}
            {"type":"turn.completed","usage":{"input_tokens":2000,"cached_input_tokens":0,"output_tokens":100,"reasoning_output_tokens":0}}
            {"type":"turn.completed","usage":{"input_tokens":500,"cached_input_tokens":0,"output_tokens":20,"reasoning_output_tokens":0}}
            """;

        Assert.Equal(new Uet.State.ToolUsage(null, 2500, 120), new CodexAdapter().ParseUsage(output, ConfigMapping.Empty));
        var priced = new CodexAdapter().ParseUsage(output, ToolConfig("codex", "usd_per_1m_input_tokens: 2\nusd_per_1m_output_tokens: 10"));
        Assert.Equal(0.0062, priced!.CostUsd!.Value, 9);
    }

    [Fact]
    public void Usage_Gemini_PrettyPrintedStatsAmongOtherLines()
    {
        var output = """
            Loaded cached credentials.
            {
              "session_id": "bd5c",
              "response": "Done.",
              "stats": {
                "models": {
                  "gemini-2.5-flash": {
                    "api": { "totalRequests": 2 },
                    "tokens": { "input": 2000, "prompt": 2000, "candidates": 100, "total": 2100, "cached": 0, "thoughts": 7, "tool": 0 }
                  }
                },
                "files": { "totalLinesAdded": 1 }
              }
            }
            """;

        Assert.Equal(new Uet.State.ToolUsage(null, 2000, 107), new GeminiAdapter().ParseUsage(output, ConfigMapping.Empty));
    }

    [Fact]
    public void Usage_Aider_TokensSummed_SessionCostIsTheLast()
    {
        var output = """
            Tokens: 2.1k sent, 150 received. Cost: $0.0012 message, $0.0012 session.
            Applied edit to hello.txt
            Tokens: 1,200 sent, 1.5k cache write, 0.3k received. Cost: $0.01 message, $0.0112 session.
            """;

        Assert.Equal(new Uet.State.ToolUsage(0.0112, 3300, 450), new AiderAdapter().ParseUsage(output, ConfigMapping.Empty));
    }

    [Fact]
    public void Usage_NothingPrinted_Null()
    {
        foreach (var adapter in AdapterRegistry.All)
        {
            Assert.Null(adapter.ParseUsage("some output\n{not json\n", ConfigMapping.Empty));
        }
    }

    [Fact]
    public void Routing_ByIdThenByScopePath()
    {
        var registry = new AdapterRegistry(ConfigLoader.Parse("""
            execution:
              default_tool: command
            adapters:
              routing:
                - pattern: "ws-docs-*"
                  tool: claude
                - pattern: "*.py"
                  tool: aider
                - pattern: "web/**"
                  tool: codex
            """));
        Workstream With(string id, params string[] scope) => new() { Id = id, Location = new SourceLocation("f", 1, 1), FilesScope = scope };

        Assert.Equal("claude", registry.ToolOf(With("ws-docs-intro", "src/a.py")));
        Assert.Equal("aider", registry.ToolOf(With("ws-api", "README.md", "src/deep/util.py")));
        Assert.Equal("codex", registry.ToolOf(With("ws-ui", "web/src/app.ts")));
        Assert.Equal("codex", registry.ToolOf(With("ws-ui2", "web")));
        Assert.Equal("command", registry.ToolOf(With("ws-other", "src/main.rs")));
        Assert.Equal("gemini", registry.ToolOf(With("ws-docs-x") with { Tool = "gemini" }));
    }
}
