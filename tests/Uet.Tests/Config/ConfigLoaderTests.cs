using Uet.Tests.Support;
using Uet.Config;
using Xunit;

namespace Uet.Tests.Config;

public sealed partial class ConfigLoaderTests
{
    private const string Source = ".uet/config.yaml";

    [Fact]
    public void LoadFile_MissingFile_ReturnsDefaults()
    {
        using var temp = new TempDirectory();

        var config = ConfigLoader.LoadFile(Path.Combine(temp.Path, ".uet", "config.yaml"));

        Assert.Equal(UetConfig.Default, config);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n")]
    [InlineData("# only a comment\n")]
    [InlineData("---\n")]
    public void LoadFile_EmptyFile_ReturnsDefaults(string text)
    {
        using var temp = new TempDirectory();
        var path = temp.Write(".uet/config.yaml", text);

        var config = ConfigLoader.LoadFile(path);

        Assert.Equal(UetConfig.Default, config);
    }

    [Fact]
    public void Parse_SectionsWithNoValue_ReturnsDefaults()
    {
        var config = ConfigLoader.Parse("project:\nexecution:\n  retry_policy:\nisolation: ~\n", Source);

        Assert.Equal(UetConfig.Default, config);
    }

    [Fact]
    public void Default_HasDocumentedValues()
    {
        var config = UetConfig.Default;

        Assert.Null(config.Project.Name);
        Assert.Equal("generic", config.Project.Type);
        Assert.Equal(".", config.Project.Root);
        Assert.Equal(4, config.Execution.MaxWorkers);
        Assert.Equal(2, config.Execution.RetryPolicy.MaxRetries);
        Assert.Equal(5.0, config.Execution.RetryPolicy.BackoffSeconds);
        Assert.Equal("workstreams", config.Execution.WorkstreamDir);
        Assert.Equal("ws-*.{json,yaml,yml}", config.Execution.WorkstreamPattern);
        Assert.Equal(".state/uet.db", config.Execution.StateDb);
        Assert.Equal("logs/uet", config.Execution.LogDir);
        Assert.Equal("command", config.Execution.DefaultTool);
        Assert.Equal(30, config.Execution.DefaultEstimateMinutes);
        Assert.Empty(config.Execution.ToolConfig);
        Assert.Equal(IsolationStrategy.Worktree, config.Isolation.Strategy);
        Assert.Equal(".worktrees", config.Isolation.WorktreeDir);
        Assert.Equal(["aider", "codex", "claude", "gemini", "command", "tests"], config.Adapters.Enabled);
        Assert.Empty(config.Adapters.Routing);
        Assert.Empty(config.StateMachines.Entries);
        Assert.True(config.Dag.Enabled);
        Assert.Null(config.Dag.MaxWaveParallelism);
        Assert.Equal(TopologicalSort.Kahn, config.Dag.TopologicalSort);
        Assert.Empty(config.Validation.Validators);
        Assert.Equal("uet/{run_id}", config.Integration.Branch);
        Assert.Null(config.Integration.MergeInto);
    }

    [Fact]
    public void Parse_DefaultConfigYaml_EqualsDefault()
    {
        var config = ConfigLoader.Parse(DefaultConfigYaml.Text);

        // Section by section first so a difference points at its section.
        Assert.Equal(UetConfig.Default.Project, config.Project);
        Assert.Equal(UetConfig.Default.Execution, config.Execution);
        Assert.Equal(UetConfig.Default.Isolation, config.Isolation);
        Assert.Equal(UetConfig.Default.Adapters, config.Adapters);
        Assert.Equal(UetConfig.Default.StateMachines, config.StateMachines);
        Assert.Equal(UetConfig.Default.Dag, config.Dag);
        Assert.Equal(UetConfig.Default.Validation, config.Validation);
        Assert.Equal(UetConfig.Default.Integration, config.Integration);
        Assert.Equal(UetConfig.Default, config);
    }

    [Fact]
    public void DefaultConfigYaml_EveryKeyIsWrittenOut()
    {
        string[] keys =
        [
            "project:", "name:", "type:", "root:", "execution:", "max_workers:", "retry_policy:", "max_retries:",
            "backoff_seconds:", "workstream_dir:", "workstream_pattern:", "state_db:", "log_dir:", "default_tool:",
            "default_estimate_minutes:", "tool_config:", "isolation:", "strategy:", "worktree_dir:", "adapters:",
            "enabled:", "routing:", "state_machines:", "dag:", "max_wave_parallelism:", "topological_sort:",
            "validation:", "validators:", "integration:", "branch:", "merge_into:",
        ];

        Assert.All(keys, key => Assert.Contains(key, DefaultConfigYaml.Text, StringComparison.Ordinal));
    }

    [Fact]
    public void LoadFile_FullFile_OverridesEverySection()
    {
        using var temp = new TempDirectory();
        var path = temp.Write(".uet/config.yaml", ConfigSamples.Full);

        var config = ConfigLoader.LoadFile(path);

        Assert.Equal("shop", config.Project.Name);
        Assert.Equal("dotnet", config.Project.Type);
        Assert.Equal("src", config.Project.Root);
        Assert.Equal(8, config.Execution.MaxWorkers);
        Assert.Equal(5, config.Execution.RetryPolicy.MaxRetries);
        Assert.Equal(1.5, config.Execution.RetryPolicy.BackoffSeconds);
        Assert.Equal(TimeSpan.FromSeconds(1.5), config.Execution.RetryPolicy.Backoff);
        Assert.Equal("plans", config.Execution.WorkstreamDir);
        Assert.Equal("*.json", config.Execution.WorkstreamPattern);
        Assert.Equal("db/state.db", config.Execution.StateDb);
        Assert.Equal("out/logs", config.Execution.LogDir);
        Assert.Equal("claude", config.Execution.DefaultTool);
        Assert.Equal(12.5, config.Execution.DefaultEstimateMinutes);
        Assert.Equal(["aider"], config.Execution.ToolConfig.Keys);
        Assert.Equal(IsolationStrategy.None, config.Isolation.Strategy);
        Assert.Equal("tmp/wt", config.Isolation.WorktreeDir);
        Assert.Equal(["claude", "command"], config.Adapters.Enabled);
        Assert.Equal([new RoutingRule("ws-docs-*", "claude"), new RoutingRule("*", "command")], config.Adapters.Routing);
        Assert.Equal(["task"], config.StateMachines.Entries.Keys);
        Assert.False(config.Dag.Enabled);
        Assert.Equal(3, config.Dag.MaxWaveParallelism);
        Assert.Equal(TopologicalSort.Kahn, config.Dag.TopologicalSort);
        Assert.Equal(
            [
                new ValidatorConfig("build", ["dotnet", "build", "-c", "Release"], ValidationGate.Lint),
                new ValidatorConfig("tests", ["dotnet", "test"], ValidationGate.Unit),
                new ValidatorConfig("audit", ["./audit.sh"], null),
            ],
            config.Validation.Validators);
        Assert.Equal("results/{run_id}", config.Integration.Branch);
        Assert.Equal("main", config.Integration.MergeInto);
        Assert.NotEqual(UetConfig.Default, config);
    }

    [Fact]
    public void Parse_ToolConfigAndStateMachines_KeptAsWritten()
    {
        var config = ConfigLoader.Parse(ConfigSamples.Full, Source);

        var aider = config.Execution.ToolConfig["aider"].Entries;
        Assert.Equal(new ConfigScalar("gpt-4o"), aider["model"]);
        Assert.Equal(new ConfigScalar("600"), aider["timeout"]);
        Assert.Equal(new ConfigScalar(null), aider["api_base"]);
        Assert.Equal(
            new ConfigSequence([new ConfigScalar("--no-auto-commits"), new ConfigScalar("--yes")]),
            aider["extra_args"]);
        Assert.Equal(
            new ConfigMapping(ValueMap.From([KeyValuePair.Create<string, ConfigValue>("FOO", new ConfigScalar("1"))])),
            aider["env"]);

        var task = Assert.IsType<ConfigMapping>(config.StateMachines.Entries["task"]);
        var states = Assert.IsType<ConfigSequence>(task.Entries["states"]);
        Assert.Equal(["pending", "running", "done"], states.Items.Select(s => ((ConfigScalar)s).Value));
        Assert.Equal(new ConfigScalar("true"), task.Entries["custom"]);
    }

    [Fact]
    public void Parse_SameTextTwice_GivesEqualConfigs()
    {
        Assert.Equal(ConfigLoader.Parse(ConfigSamples.Full, Source), ConfigLoader.Parse(ConfigSamples.Full, Source));
        Assert.Equal(
            ConfigLoader.Parse(ConfigSamples.Full, Source).GetHashCode(),
            ConfigLoader.Parse(ConfigSamples.Full, Source).GetHashCode());
    }
}
