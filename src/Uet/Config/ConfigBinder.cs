using YamlDotNet.RepresentationModel;

namespace Uet.Config;

/// <summary>
/// Binds a parsed YAML tree onto <see cref="UetConfig"/>, one section at a time. A bad value is
/// recorded and its default kept, so binding always finishes and every error is reported at once.
/// </summary>
internal sealed partial class ConfigBinder
{
    private static readonly string[] _rootKeys =
        ["project", "execution", "isolation", "adapters", "state_machines", "dag", "validation", "integration"];

    private static readonly string[] _projectKeys = ["name", "type", "root"];

    private static readonly string[] _executionKeys =
    [
        "max_workers", "retry_policy", "workstream_dir", "workstream_pattern", "state_db", "log_dir",
        "default_tool", "default_estimate_minutes", "tool_config",
    ];

    private static readonly string[] _retryKeys = ["max_retries", "backoff_seconds"];
    private static readonly string[] _isolationKeys = ["strategy", "worktree_dir"];
    private static readonly string[] _adaptersKeys = ["enabled", "routing"];
    private static readonly string[] _routingKeys = ["pattern", "tool"];
    private static readonly string[] _dagKeys = ["enabled", "max_wave_parallelism", "topological_sort"];
    private static readonly string[] _validationKeys = ["validators"];
    private static readonly string[] _validatorKeys = ["name", "run", "gate"];
    private static readonly string[] _integrationKeys = ["branch", "merge_into", "batch_size"];

    private static readonly (string Name, IsolationStrategy Value)[] _strategies =
        [("worktree", IsolationStrategy.Worktree), ("none", IsolationStrategy.None)];

    private static readonly (string Name, TopologicalSort Value)[] _sorts = [("kahn", TopologicalSort.Kahn)];

    private static readonly (string Name, ValidationGate? Value)[] _gates =
    [
        ("GATE_LINT", ValidationGate.Lint), ("GATE_UNIT", ValidationGate.Unit),
        ("GATE_INTEGRATION", ValidationGate.Integration), ("GATE_SECURITY", ValidationGate.Security),
    ];

    public UetConfig BindRoot(YamlNode root)
    {
        var config = UetConfig.Default;
        foreach (var (key, value, path) in Entries(root, "", _rootKeys))
        {
            config = key switch
            {
                "project" => config with { Project = BindProject(value, path) },
                "execution" => config with { Execution = BindExecution(value, path) },
                "isolation" => config with { Isolation = BindIsolation(value, path) },
                "adapters" => config with { Adapters = BindAdapters(value, path) },
                "state_machines" => config with { StateMachines = ReadMapping(value, path) },
                "dag" => config with { Dag = BindDag(value, path) },
                "validation" => config with { Validation = BindValidation(value, path) },
                _ => config with { Integration = BindIntegration(value, path) },
            };
        }

        return config;
    }

    private ProjectConfig BindProject(YamlNode node, string path)
    {
        var project = new ProjectConfig();
        foreach (var (key, value, keyPath) in Entries(node, path, _projectKeys))
        {
            project = key switch
            {
                "name" => project with { Name = ReadNullableString(value, keyPath, project.Name) },
                "type" => project with { Type = ReadString(value, keyPath, project.Type) },
                _ => project with { Root = ReadString(value, keyPath, project.Root) },
            };
        }

        return project;
    }

    private ExecutionConfig BindExecution(YamlNode node, string path)
    {
        var execution = new ExecutionConfig();
        foreach (var (key, value, keyPath) in Entries(node, path, _executionKeys))
        {
            execution = key switch
            {
                "max_workers" => execution with { MaxWorkers = ReadInt(value, keyPath, execution.MaxWorkers, min: 1) },
                "retry_policy" => execution with { RetryPolicy = BindRetryPolicy(value, keyPath) },
                "workstream_dir" => execution with { WorkstreamDir = ReadString(value, keyPath, execution.WorkstreamDir) },
                "workstream_pattern" => execution with { WorkstreamPattern = ReadString(value, keyPath, execution.WorkstreamPattern) },
                "state_db" => execution with { StateDb = ReadString(value, keyPath, execution.StateDb) },
                "log_dir" => execution with { LogDir = ReadString(value, keyPath, execution.LogDir) },
                "default_tool" => execution with { DefaultTool = ReadString(value, keyPath, execution.DefaultTool) },
                "default_estimate_minutes" => execution with
                {
                    DefaultEstimateMinutes = ReadNumber(value, keyPath, execution.DefaultEstimateMinutes, min: 0, minExclusive: true),
                },
                _ => execution with { ToolConfig = BindToolConfig(value, keyPath) },
            };
        }

        return execution;
    }

    private RetryPolicyConfig BindRetryPolicy(YamlNode node, string path)
    {
        var retry = new RetryPolicyConfig();
        foreach (var (key, value, keyPath) in Entries(node, path, _retryKeys))
        {
            retry = key switch
            {
                "max_retries" => retry with { MaxRetries = ReadInt(value, keyPath, retry.MaxRetries, min: 0) },
                _ => retry with { BackoffSeconds = ReadNumber(value, keyPath, retry.BackoffSeconds, min: 0, minExclusive: false) },
            };
        }

        return retry;
    }

    private ValueMap<ConfigMapping> BindToolConfig(YamlNode node, string path)
    {
        var tools = new List<KeyValuePair<string, ConfigMapping>>();
        foreach (var (key, value, keyPath) in Entries(node, path, knownKeys: null))
        {
            if (IsNull(value) || value is YamlMappingNode)
            {
                tools.Add(new(key, ReadMapping(value, keyPath)));
            }
            else
            {
                Report(value, keyPath, $"expected a mapping of settings for the '{key}' tool, got {Describe(value)}");
            }
        }

        return ValueMap.From(tools);
    }

    private IsolationConfig BindIsolation(YamlNode node, string path)
    {
        var isolation = new IsolationConfig();
        foreach (var (key, value, keyPath) in Entries(node, path, _isolationKeys))
        {
            isolation = key switch
            {
                "strategy" => isolation with { Strategy = ReadChoice(value, keyPath, isolation.Strategy, _strategies) },
                _ => isolation with { WorktreeDir = ReadString(value, keyPath, isolation.WorktreeDir) },
            };
        }

        return isolation;
    }

    private AdaptersConfig BindAdapters(YamlNode node, string path)
    {
        var adapters = new AdaptersConfig();
        foreach (var (key, value, keyPath) in Entries(node, path, _adaptersKeys))
        {
            adapters = key switch
            {
                "enabled" => adapters with { Enabled = ReadStringList(value, keyPath, adapters.Enabled) },
                _ => adapters with { Routing = ReadList(value, keyPath, adapters.Routing, BindRoutingRule) },
            };
        }

        return adapters;
    }

    private RoutingRule? BindRoutingRule(YamlNode node, string path)
    {
        string? pattern = null;
        string? tool = null;
        foreach (var (key, value, keyPath) in Entries(node, path, _routingKeys))
        {
            if (key == "pattern")
            {
                pattern = ReadString(value, keyPath, "");
            }
            else
            {
                tool = ReadString(value, keyPath, "");
            }
        }

        var complete = RequireKey(node, path, "pattern", pattern) & RequireKey(node, path, "tool", tool);
        return complete && pattern!.Length > 0 && tool!.Length > 0 ? new RoutingRule(pattern, tool) : null;
    }

    private DagConfig BindDag(YamlNode node, string path)
    {
        var dag = new DagConfig();
        foreach (var (key, value, keyPath) in Entries(node, path, _dagKeys))
        {
            dag = key switch
            {
                "enabled" => dag with { Enabled = ReadBool(value, keyPath, dag.Enabled) },
                "max_wave_parallelism" => dag with
                {
                    MaxWaveParallelism = IsNull(value) ? null : ReadInt(value, keyPath, dag.MaxWaveParallelism ?? 1, min: 1),
                },
                _ => dag with { TopologicalSort = ReadChoice(value, keyPath, dag.TopologicalSort, _sorts) },
            };
        }

        return dag;
    }

    private ValidationConfig BindValidation(YamlNode node, string path)
    {
        var validation = new ValidationConfig();
        foreach (var (_, value, keyPath) in Entries(node, path, _validationKeys))
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            validation = validation with
            {
                Validators = ReadList(value, keyPath, validation.Validators, (item, itemPath) => BindValidator(item, itemPath, names)),
            };
        }

        return validation;
    }

    private ValidatorConfig? BindValidator(YamlNode node, string path, HashSet<string> names)
    {
        string? name = null;
        ValueList<string>? run = null;
        var hasRun = false;
        ValidationGate? gate = null;
        foreach (var (key, value, keyPath) in Entries(node, path, _validatorKeys))
        {
            switch (key)
            {
                case "name":
                    name = ReadString(value, keyPath, "");
                    if (name.Length > 0 && !names.Add(name))
                    {
                        Report(value, keyPath, $"another validator is already named '{name}'; names must be unique");
                    }

                    break;
                case "run":
                    run = ReadArgv(value, keyPath);
                    hasRun = true;
                    break;
                default:
                    gate = IsNull(value) ? null : ReadChoice<ValidationGate?>(value, keyPath, null, _gates);
                    break;
            }
        }

        // run: present but invalid was already reported; only say "missing" when it is absent.
        var complete = RequireKey(node, path, "name", name) & RequireKey(node, path, "run", hasRun ? "" : null);
        return complete && name!.Length > 0 && run is { Count: > 0 } ? new ValidatorConfig(name, run, gate) : null;
    }

    private IntegrationConfig BindIntegration(YamlNode node, string path)
    {
        var integration = new IntegrationConfig();
        foreach (var (key, value, keyPath) in Entries(node, path, _integrationKeys))
        {
            integration = key switch
            {
                "branch" => integration with { Branch = ReadString(value, keyPath, integration.Branch) },
                "batch_size" => integration with { BatchSize = ReadInt(value, keyPath, integration.BatchSize, min: 1) },
                _ => integration with { MergeInto = ReadNullableString(value, keyPath, integration.MergeInto) },
            };
        }

        return integration;
    }
}
