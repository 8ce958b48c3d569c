using System.Globalization;
using Microsoft.Data.Sqlite;
using Uet.Tests.Support;
using Xunit;

namespace Uet.Tests.Execution.AiClis;

/// <summary>
/// <c>uet run</c> (the real program) running the real codex, claude and gemini CLIs in a worktree against a scripted
/// model server on 127.0.0.1: the client makes the edit the script asked for, uet captures it as a patch in the ledger
/// and commits it on the integration branch, and records what the CLI said it spent. Each CLI's HOME and config folder
/// is a temp folder, so nothing of this machine's settings leaks in and nothing of the test leaks out; the API key is
/// in uet's environment only, and must reach the server but no log or event.
/// </summary>
[Collection(nameof(AiCliEndToEndTests))]
public sealed class AiCliEndToEndTests : IDisposable
{
    private const string RunId = "r-ai";
    private readonly TempDirectory _dir = new();
    private readonly string _repo;
    private readonly string _home;

    public AiCliEndToEndTests()
    {
        _repo = Path.Combine(_dir.Path, "repo");
        _home = Path.Combine(_dir.Path, "home");
        Directory.CreateDirectory(_home);
        TestRepository.Create(_repo, init: true);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private string Scalar(string sql) => TestRepository.Scalar(_repo, sql);

    private string Log => File.ReadAllText(Path.Combine(_repo, "logs", "uet", RunId, "ws-hello", "1.log"));

    [Fact]
    public void Codex_EditsTheWorktree_PatchInTheLedgerAndCommitted_TokensRecorded()
    {
        const string Key = "sk-uet-test-openai-0123456789";
        using var server = new FakeModelServer(ScriptedModels.OpenAiResponses("hello.txt", "hello from codex"));
        var codexHome = Directory.CreateDirectory(Path.Combine(_home, ".codex")).FullName;

        var result = Run("codex", $"""
            program: {InstalledClis.Path("codex")}
            model: gpt-5.1-codex
            env: {Env(("HOME", _home), ("CODEX_HOME", codexHome))}
            config:
              model_provider: uetfake
              model_providers.uetfake.name: uetfake
              model_providers.uetfake.base_url: {server.BaseUrl}/v1
              model_providers.uetfake.env_key: OPENAI_API_KEY
              model_providers.uetfake.wire_api: responses
              model_providers.uetfake.request_max_retries: 0
              model_providers.uetfake.stream_max_retries: 0
              analytics.enabled: false
            """, ("OPENAI_API_KEY", Key));

        AssertScriptedEditCommitted(result, server, "hello from codex");
        Assert.Contains(server.Requests, r => r.Headers.GetValueOrDefault("authorization") == "Bearer " + Key);
        AssertUsage("codex", cost: null, input: 2000, output: 100);
        AssertKeyNowhere(Key, result);
    }

    [Fact]
    public void Claude_EditsTheWorktree_PatchInTheLedgerAndCommitted_CostRecorded()
    {
        const string Key = "sk-ant-uet-test-0123456789";
        using var server = new FakeModelServer(ScriptedModels.AnthropicMessages("hello.txt", "hello from claude"));

        var result = Run("claude", ClaudeConfig(server), ("ANTHROPIC_API_KEY", Key));

        AssertScriptedEditCommitted(result, server, "hello from claude");
        Assert.Contains(server.Requests, r => r.Headers.GetValueOrDefault("x-api-key") == Key);
        // Claude Code prices the tokens itself: 2 turns of sonnet, 1000 in and 50 out each, are 2 * (1000 * $3 + 50 * $15) / 1M.
        AssertUsage("claude", cost: 0.0075, input: 2000, output: 100);
        AssertKeyNowhere(Key, result);
    }

    [Fact]
    public void Claude_PromptLongerThanOneArgumentMayBe_ReachesTheModel()
    {
        // Linux refuses a single argument over 128 KiB (E2BIG): the prompt goes through stdin, whatever its length.
        using var server = new FakeModelServer(ScriptedModels.AnthropicMessages("hello.txt", "hello from claude"));
        var filler = string.Concat(Enumerable.Repeat("Keep every line of the existing code as it is. ", 4000));
        Assert.True(filler.Length > 150_000);

        var result = Run("claude", ClaudeConfig(server), ("ANTHROPIC_API_KEY", "sk-ant-uet-test-0123456789"), task: "Create hello.txt with a greeting. " + filler + "LONG-PROMPT-END");

        AssertScriptedEditCommitted(result, server, "hello from claude");
        Assert.Contains(server.Requests, r => r.Body?.ToJsonString().Contains("LONG-PROMPT-END", StringComparison.Ordinal) == true);
    }

    [Fact]
    public void Claude_CostOverMaxCostUsd_TaskFailsWithoutRetry()
    {
        using var server = new FakeModelServer(ScriptedModels.AnthropicMessages("hello.txt", "hello from claude"));

        var result = Run("claude", ClaudeConfig(server), ("ANTHROPIC_API_KEY", "sk-ant-uet-test-0123456789"), maxAttempts: 3, extra: "\"max_cost_usd\": 0.001,");

        Assert.True(result.ExitCode == 1, result + "\n--- log\n" + Log);
        Assert.Equal("failed", Scalar("SELECT state FROM tasks"));
        Assert.Equal("1", Scalar("SELECT COUNT(*) FROM steps"));
        Assert.Contains("cost limit", Scalar("SELECT data FROM events WHERE event_type = 'task.failed'"), StringComparison.Ordinal);
        Assert.Contains("which reaches its max_cost_usd of $0.001", Scalar("SELECT data FROM events WHERE event_type = 'task.failed'"), StringComparison.Ordinal);
        Assert.Equal("0", Scalar("SELECT COUNT(*) FROM patches WHERE state = 'committed'"));
    }

    [Fact]
    public void Gemini_EditsTheWorktree_PatchInTheLedgerAndCommitted_TokensRecorded()
    {
        const string Key = "gm-uet-test-0123456789";
        using var server = new FakeModelServer(ScriptedModels.Gemini("hello.txt", "hello from gemini"));
        // The CLI picks its auth from its settings; usage statistics would try to reach Google.
        File.WriteAllText(
            Path.Combine(Directory.CreateDirectory(Path.Combine(_home, ".gemini")).FullName, "settings.json"),
            """{ "security": { "auth": { "selectedType": "gemini-api-key" } }, "privacy": { "usageStatisticsEnabled": false } }""");

        var result = Run("gemini", $"""
            program: {InstalledClis.Path("gemini")}
            model: gemini-2.5-flash
            env: {Env(("HOME", _home), ("GEMINI_CLI_HOME", _home), ("GOOGLE_GEMINI_BASE_URL", server.BaseUrl))}
            """, ("GEMINI_API_KEY", Key));

        AssertScriptedEditCommitted(result, server, "hello from gemini");
        Assert.Contains(server.Requests, r => r.Headers.GetValueOrDefault("x-goog-api-key") == Key);
        AssertUsage("gemini", cost: null, input: 2000, output: 100);
        AssertKeyNowhere(Key, result);
    }

    /// <summary>aider cannot be installed here (PyPI is out of reach): a stand-in with its output format shows the adapter's argv and the usage path.</summary>
    [Fact]
    public void Aider_StandIn_GetsTheScopeFilesAndNoCommitFlags_ItsCostRecorded()
    {
        var argvFile = Path.Combine(_dir.Path, "aider-argv.txt");
        var aider = Path.Combine(_dir.Path, "bin", "aider");
        Directory.CreateDirectory(Path.GetDirectoryName(aider)!);
        File.WriteAllText(aider, $$"""
            #!/bin/sh
            printf '%s\n' "$@" > "$ARGV_OUT"
            for last; do :; done
            echo "hello from aider" > "$last"
            echo "Tokens: 2.1k sent, 150 received. Cost: \$0.0012 message, \$0.0012 session."
            """);
        CliRunner.Run(_dir.Path, "chmod", ["+x", aider]);

        var result = Run("aider", $"program: {aider}\nmodel: gpt-4o\nenv: {Env(("ARGV_OUT", argvFile))}", ("OPENAI_API_KEY", "sk-uet-test-openai-0123456789"));

        AssertScriptedEditCommitted(result, null, "hello from aider");
        var argv = File.ReadAllLines(argvFile);
        Assert.Equal(Path.Combine(_repo, "logs", "uet", RunId, "ws-hello", "1.prompt.md"), argv[Array.IndexOf(argv, "--message-file") + 1]);
        Assert.Contains("--no-auto-commits", argv);
        Assert.Contains("--yes-always", argv);
        Assert.Equal("hello.txt", argv[^1]);
        AssertUsage("aider", cost: 0.0012, input: 2100, output: 150);

        // The run's report adds it up: in total and per workstream.
        var reports = Path.Combine(_repo, ".uet", "reports", RunId);
        Assert.Contains("| tool spend | $0.0012, 2100 tokens in, 150 out |", File.ReadAllText(Path.Combine(reports, "UET_EXECUTION_REPORT.md")), StringComparison.Ordinal);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(reports, "UET_EXECUTION_REPORT.json")));
        Assert.Equal(0.0012, json.RootElement.GetProperty("spend").GetProperty("cost_usd").GetDouble());
        Assert.Equal(2100, json.RootElement.GetProperty("workstreams")[0].GetProperty("spend").GetProperty("input_tokens").GetInt64());
    }

    [Fact]
    public void Budget_UsageCutOffByTheLogCap_IsNotFree_TaskStopsWithoutRetry()
    {
        // Over a MiB of output, then the usage line: the log keeps the first MiB only, so the spend is unknown, and a
        // workstream with a budget must not go on as if it had cost nothing. A retry would have passed (second attempt).
        var aider = Path.Combine(_dir.Path, "bin", "aider");
        Directory.CreateDirectory(Path.GetDirectoryName(aider)!);
        File.WriteAllText(aider, """
            #!/bin/sh
            yes 'chatter from the model' | head -c 1200000
            echo "Tokens: 900k sent, 10k received. Cost: \$9.00 message, \$9.00 session."
            [ "$UET_ATTEMPT" = 2 ] || exit 1
            """);
        CliRunner.Run(_dir.Path, "chmod", ["+x", aider]);

        var result = Run("aider", $"program: {aider}", ("OPENAI_API_KEY", "sk-uet-test-openai-0123456789"), maxAttempts: 3, extra: "\"max_cost_usd\": 5,");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("1", Scalar("SELECT COUNT(*) FROM steps"));
        Assert.Contains("cost limit: what aider spent in this attempt is unknown (its output went past the log cap)", Scalar("SELECT data FROM events WHERE event_type = 'task.failed'"), StringComparison.Ordinal);
    }

    [Fact]
    public void ToolTimeoutFromToolConfig_KillsTheTool_AttemptFails()
    {
        var aider = Path.Combine(_dir.Path, "bin", "aider");
        Directory.CreateDirectory(Path.GetDirectoryName(aider)!);
        File.WriteAllText(aider, "#!/bin/sh\nsleep 30\n");
        CliRunner.Run(_dir.Path, "chmod", ["+x", aider]);

        var result = Run("aider", $"program: {aider}\ntimeout: 1s", ("OPENAI_API_KEY", "sk-uet-test-openai-0123456789"), timeout: null);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("timed out after 1 s", Scalar("SELECT data FROM events WHERE event_type = 'task.failed'"), StringComparison.Ordinal);
    }

    private string ClaudeConfig(FakeModelServer server) => $"""
        program: {InstalledClis.Path("claude")}
        model: claude-sonnet-4-5
        env: {Env(("HOME", _home), ("CLAUDE_CONFIG_DIR", Path.Combine(_home, ".claude")), ("ANTHROPIC_BASE_URL", server.BaseUrl), ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"))}
        """;

    private static string Env(params (string Name, string Value)[] variables) =>
        "{" + string.Join(", ", variables.Select(v => $"{v.Name}: \"{v.Value}\"")) + "}";

    /// <summary>Writes the config (tool_config.&lt;tool&gt; = <paramref name="toolConfig"/>) and one workstream, then runs uet with the key in its environment.</summary>
    private CliResult Run(string tool, string toolConfig, (string Name, string Value) key, int maxAttempts = 1, string extra = "", string? timeout = "90s", string task = "Create hello.txt with a greeting")
    {
        var indented = string.Join('\n', toolConfig.Split('\n').Select(line => "      " + line));
        File.WriteAllText(Path.Combine(_repo, ".uet", "config.yaml"), $"execution:\n  tool_config:\n    {tool}:\n{indented}\n");
        File.WriteAllText(Path.Combine(_repo, "workstreams", "ws-hello.json"), $$"""
            { "id": "ws-hello", "tool": "{{tool}}", {{extra}}
              "tasks": [{{System.Text.Json.JsonSerializer.Serialize(task)}}], "files_create": ["hello.txt"],
              {{(timeout is null ? string.Empty : $"\"timeout\": \"{timeout}\",")}} "circuit_breaker": { "max_attempts": {{maxAttempts}} } }
            """);
        return CliRunner.UetWithEnvironment(_repo, new Dictionary<string, string> { [key.Name] = key.Value }, "run", "--run-id", RunId);
    }

    private void AssertScriptedEditCommitted(CliResult result, FakeModelServer? server, string content)
    {
        var errors = server?.Errors.ToArray() ?? [];
        Assert.True(result.ExitCode == 0, result + "\n--- log\n" + Log + "\n--- server errors\n" + string.Join('\n', errors));
        Assert.Empty(errors);
        if (server is not null)
        {
            // The prompt (on the tool's stdin) reached the model: the workstream's task is in what the client sent.
            Assert.Contains(server.Requests, r => r.Body?.ToJsonString().Contains("Create hello.txt with a greeting", StringComparison.Ordinal) == true);
        }

        Assert.Equal("committed", Scalar("SELECT state FROM patches"));
        var patch = File.ReadAllText(Path.Combine(_repo, Scalar("SELECT path FROM patches")));
        Assert.Contains("+++ b/hello.txt", patch, StringComparison.Ordinal);
        Assert.Contains("+" + content, patch, StringComparison.Ordinal);
        Assert.Equal("""["A hello.txt"]""", Scalar("SELECT files FROM patches"));
        Assert.Equal(content + "\n", CliRunner.Run(_repo, "git", ["show", $"uet/{RunId}:hello.txt"]).Stdout);
    }

    private void AssertUsage(string tool, double? cost, long input, long output)
    {
        Assert.Equal(tool, Scalar("SELECT tool FROM steps"));
        Assert.Equal(cost?.ToString(CultureInfo.InvariantCulture) ?? string.Empty, Scalar("SELECT cost_usd FROM steps"));
        Assert.Equal(input.ToString(CultureInfo.InvariantCulture), Scalar("SELECT input_tokens FROM steps"));
        Assert.Equal(output.ToString(CultureInfo.InvariantCulture), Scalar("SELECT output_tokens FROM steps"));
    }

    private void AssertKeyNowhere(string key, CliResult result)
    {
        Assert.DoesNotContain(key, Log, StringComparison.Ordinal);
        Assert.DoesNotContain(key, result.Stdout + result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(key, File.ReadAllText(Path.Combine(_repo, ".uet", "config.yaml")), StringComparison.Ordinal);
        Assert.Equal("0", Scalar($"SELECT COUNT(*) FROM events WHERE data LIKE '%{key}%'"));
    }
}

/// <summary>The CLIs are heavy (Node start-up, a native codex binary): one at a time, beside the rest of the suite.</summary>
[CollectionDefinition(nameof(AiCliEndToEndTests), DisableParallelization = true)]
public sealed class AiCliEndToEndCollection;
