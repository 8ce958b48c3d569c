namespace Uet.Execution;

/// <summary>How to run: workers, fail-fast, and the limits of each attempt.</summary>
/// <param name="Workers">Tasks at the same time (at least 1).</param>
/// <param name="FailFast">Stop dispatching after the first failure.</param>
/// <param name="RunId">Use this id instead of a generated one.</param>
/// <param name="DefaultTimeout">Time limit of an attempt whose workstream has no <c>timeout</c>.</param>
/// <param name="DrainGrace">After Ctrl+C, how long running tasks may finish before they are killed.</param>
/// <param name="LogCapBytes">Largest log file of one attempt.</param>
/// <param name="Lease">Worker and run-lock lease; heartbeats renew it three times per lease.</param>
public sealed record RunOptions(
    int Workers,
    bool FailFast = false,
    string? RunId = null,
    TimeSpan? DefaultTimeout = null,
    TimeSpan? DrainGrace = null,
    long LogCapBytes = 1 << 20,
    TimeSpan? Lease = null)
{
    public TimeSpan EffectiveTimeout => DefaultTimeout ?? TimeSpan.FromMinutes(30);

    public TimeSpan EffectiveDrainGrace => DrainGrace ?? TimeSpan.FromSeconds(10);

    public TimeSpan EffectiveLease => Lease ?? TimeSpan.FromSeconds(60);

    /// <summary>The text of the config file the run was started with ('' = none, the defaults), recorded with the run.</summary>
    public string? ConfigText { get; init; }
}

public enum TaskResult
{
    Completed,
    Failed,
    Quarantined,
    RolledBack,
    Blocked,
    Cancelled,
    NotStarted,
}

/// <summary>What became of one workstream in a run.</summary>
public sealed record TaskOutcome(string WorkstreamId, TaskResult Result, int Attempts, string? Detail, string? Commit)
{
    /// <summary>Whether the worker that ran it can take another task (false when it was drained or terminated meanwhile).</summary>
    public bool WorkerReusable { get; init; } = true;

    /// <summary>The dependents its completion made ready, in the same transaction as the completion.</summary>
    public IReadOnlyList<string> NowReady { get; init; } = [];

    /// <summary>
    /// Ends once the task's last transactions are durable (its completion is committed in the background while its
    /// worker goes on); fails with a <see cref="Integration.QueueFailure"/> when they could not be made so.
    /// </summary>
    internal Task Recorded { get; init; } = Task.CompletedTask;

    /// <summary>The result as the states are named (rolled_back, not_started).</summary>
    public string ResultName => Result switch
    {
        TaskResult.RolledBack => "rolled_back",
        TaskResult.NotStarted => "not_started",
        _ => Result.ToString().ToLowerInvariant(),
    };
}

/// <summary>The end of a run: its state, where the results are, and each task's outcome.</summary>
public sealed record RunSummary(
    string RunId,
    string State,
    string IntegrationBranch,
    string BaseCommit,
    string FinalCommit,
    IReadOnlyList<TaskOutcome> Tasks,
    TimeSpan Elapsed);

/// <summary>A line of progress: something happened to a workstream.</summary>
public sealed record RunProgress(string Kind, string WorkstreamId, string Message, int Finished, int Total);
