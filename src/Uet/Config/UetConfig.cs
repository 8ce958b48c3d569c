namespace Uet.Config;

/// <summary>
/// The contents of <c>.uet/config.yaml</c>. Every key is optional; <see cref="Default"/> is what an
/// empty or missing file means. Records and <see cref="ValueList{T}"/>/<see cref="ValueMap{TValue}"/>
/// make two configs equal exactly when every value is equal.
/// </summary>
public sealed record UetConfig
{
    public static UetConfig Default { get; } = new();

    public ProjectConfig Project { get; init; } = new();

    public ExecutionConfig Execution { get; init; } = new();

    public IsolationConfig Isolation { get; init; } = new();

    public AdaptersConfig Adapters { get; init; } = new();

    /// <summary><c>state_machines</c>: kept as written; uet's own state machines are fixed in code.</summary>
    public ConfigMapping StateMachines { get; init; } = ConfigMapping.Empty;

    public DagConfig Dag { get; init; } = new();

    public ValidationConfig Validation { get; init; } = new();

    public IntegrationConfig Integration { get; init; } = new();
}

/// <summary><c>project</c>: what the repository is.</summary>
public sealed record ProjectConfig
{
    /// <summary>Null means "use the repository folder's name"; the caller resolves it.</summary>
    public string? Name { get; init; }

    public string Type { get; init; } = "generic";

    /// <summary>Repository root, relative to the folder holding <c>.uet/</c>.</summary>
    public string Root { get; init; } = ".";
}

/// <summary><c>execution</c>: workers, retries, where inputs and outputs live, which tool runs by default.</summary>
public sealed record ExecutionConfig
{
    /// <summary>At least 1.</summary>
    public int MaxWorkers { get; init; } = 4;

    public RetryPolicyConfig RetryPolicy { get; init; } = new();

    public string WorkstreamDir { get; init; } = "workstreams";

    public string WorkstreamPattern { get; init; } = "ws-*.{json,yaml,yml}";

    public string StateDb { get; init; } = ".state/uet.db";

    public string LogDir { get; init; } = "logs/uet";

    public string DefaultTool { get; init; } = "command";

    /// <summary>uet addition: the planner's estimate for a workstream without one. Greater than 0.</summary>
    public double DefaultEstimateMinutes { get; init; } = 30;

    /// <summary>Per tool name, a mapping kept as written for that tool's adapter to read.</summary>
    public ValueMap<ConfigMapping> ToolConfig { get; init; } = ValueMap.Empty<ConfigMapping>();

    public TimeSpan DefaultEstimate => TimeSpan.FromMinutes(DefaultEstimateMinutes);
}

/// <summary><c>execution.retry_policy</c>: how often a failed task is retried and how long to wait in between.</summary>
public sealed record RetryPolicyConfig
{
    /// <summary>At least 0.</summary>
    public int MaxRetries { get; init; } = 2;

    /// <summary>At least 0.</summary>
    public double BackoffSeconds { get; init; } = 5.0;

    public TimeSpan Backoff => TimeSpan.FromSeconds(BackoffSeconds);
}

/// <summary><c>isolation</c>: where each task's tool runs.</summary>
public sealed record IsolationConfig
{
    public IsolationStrategy Strategy { get; init; } = IsolationStrategy.Worktree;

    public string WorktreeDir { get; init; } = ".worktrees";
}

/// <summary><c>adapters</c>: which tools may run and which workstreams go to which tool.</summary>
public sealed record AdaptersConfig
{
    public ValueList<string> Enabled { get; init; } = ["aider", "codex", "claude", "gemini", "command", "tests"];

    /// <summary>Checked in order; the first rule whose pattern matches a workstream id picks its tool.</summary>
    public ValueList<RoutingRule> Routing { get; init; } = [];
}

/// <summary>One <c>adapters.routing</c> entry.</summary>
public sealed record RoutingRule(string Pattern, string Tool);

/// <summary><c>dag</c>: how the plan is built.</summary>
public sealed record DagConfig
{
    public bool Enabled { get; init; } = true;

    /// <summary>At least 1; null means no limit beyond <see cref="ExecutionConfig.MaxWorkers"/>.</summary>
    public int? MaxWaveParallelism { get; init; }

    public TopologicalSort TopologicalSort { get; init; } = TopologicalSort.Kahn;
}

/// <summary><c>validation</c>: commands the merge queue runs after applying each patch.</summary>
public sealed record ValidationConfig
{
    public ValueList<ValidatorConfig> Validators { get; init; } = [];
}

/// <summary>One <c>validation.validators</c> entry.</summary>
/// <param name="Name">Unique among validators.</param>
/// <param name="Run">The argv to run; never a shell string, so nothing is re-split or re-quoted.</param>
/// <param name="Gate">The workstream <c>test_gates</c> type this validator serves, if any.</param>
public sealed record ValidatorConfig(string Name, ValueList<string> Run, ValidationGate? Gate);

/// <summary><c>integration</c>: where results land.</summary>
public sealed record IntegrationConfig
{
    /// <summary>The integration branch; <c>{run_id}</c> is replaced by the run's id.</summary>
    public string Branch { get; init; } = "uet/{run_id}";

    /// <summary>The branch to fast-forward to the integration branch after a run; null = leave it.</summary>
    public string? MergeInto { get; init; }

    /// <summary>
    /// Patches validated together by the merge queue: the validators run once on up to this many, and a failure is
    /// bisected to its patch. 1 = one validation per patch.
    /// </summary>
    public int BatchSize { get; init; } = 1;
}
