using Uet.State;

namespace Uet.Reporting;

/// <summary>
/// What one run did, read from the state store (<see cref="ReportBuilder"/>): outcome and timings, totals, speedup,
/// critical path, one row per workstream, waves, the workers' lanes, incidents and utilization. Durations are
/// milliseconds, exactly as the store holds them; renderers only format.
/// </summary>
public sealed record ExecutionReport(
    string RunId,
    string State,
    string? Reason,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    long WallMs,
    DateTimeOffset GeneratedAt,
    int Workers,
    IReadOnlyList<StateCount> TasksByState,
    IReadOnlyList<StateCount> PatchesByState,
    ReportTimes Times,
    CriticalPathComparison CriticalPath,
    IReadOnlyList<WorkstreamRow> Workstreams,
    IReadOnlyList<WaveRow> Waves,
    IReadOnlyList<GanttLane> Lanes,
    IReadOnlyList<Incident> Retries,
    IReadOnlyList<Incident> Quarantines,
    IReadOnlyList<Incident> Rollbacks,
    IReadOnlyList<WorkerUsage> Utilization)
{
    public const string Format = "uet.report/1";

    /// <summary>What the tools said they spent over the whole run (cost, tokens); empty when none said.</summary>
    public ToolUsage Spend { get; init; } = ToolUsage.None;

    /// <summary>
    /// Busy time of all workers over wall time times the workers the run had at once; null for an empty run. A resumed
    /// run has the workers of each of its processes as lanes, but never more than <see cref="Workers"/> at a time.
    /// </summary>
    public double? OverallUtilization => WallMs <= 0 || Utilization.Count == 0
        ? null
        : (double)Utilization.Sum(u => u.BusyMs) / (WallMs * (double)Math.Max(Workers, 1));
}

public sealed record StateCount(string State, int Count);

/// <summary>
/// <c>WorkMs</c>: Sum of the tasks' durations (first start to end: retries, backoffs and the wait for the merge queue
/// included), an upper bound of the run done on one worker; the speedups over it are upper bounds too.<br/>
/// <c>WaveBarrierMs</c>: The measured durations replayed wave by wave (each wave waits for the previous one) on the same workers.<br/>
/// <c>EstimatedSequentialMs</c>: The plan's sequential estimate (sum of the estimates).<br/>
/// <c>EstimatedWaveBarrierMs</c>: The plan's wave-barrier estimate.<br/>
/// <c>EstimatedDispatchMs</c>: The plan's estimate of uet's own dispatch.<br/>
/// </summary>
public sealed record ReportTimes(
    long WallMs,
    long WorkMs,
    long WaveBarrierMs,
    long EstimatedSequentialMs,
    long EstimatedWaveBarrierMs,
    long EstimatedDispatchMs)
{
    /// <summary>How many times faster than one worker doing every task one after the other.</summary>
    public double? SpeedupVsSequential => WallMs > 0 ? (double)WorkMs / WallMs : null;

    /// <summary>How many times faster than the same work run wave by wave.</summary>
    public double? SpeedupVsWaveBarrier => WallMs > 0 ? (double)WaveBarrierMs / WallMs : null;
}

/// <summary>The plan's critical path (by estimates) and the one the measured durations make, each with both sums.</summary>
public sealed record CriticalPathComparison(PathTimes Estimated, PathTimes Actual);

/// <summary>
/// <c>Workstreams</c>: The chain, first to last.<br/>
/// <c>EstimatedMs</c>: Sum of the chain's estimates.<br/>
/// <c>ActualMs</c>: Sum of the chain's measured durations (0 for what did not run).<br/>
/// </summary>
public sealed record PathTimes(IReadOnlyList<string> Workstreams, long EstimatedMs, long ActualMs);

/// <summary>
/// <c>Worker</c>: The worker of its last attempt.<br/>
/// <c>Validators</c>: What the validators said about its last patch ("validators passed", why it was rolled back, ...).<br/>
/// <c>Reason</c>: Why it failed or was blocked; null otherwise.<br/>
/// </summary>
public sealed record WorkstreamRow(
    string Id,
    int Wave,
    string State,
    int Attempts,
    long? DurationMs,
    long EstimateMs,
    string? Worker,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    string? PatchState,
    string? PatchSha256,
    IReadOnlyList<string> Files,
    int? LinesAdded,
    int? LinesRemoved,
    string? Commit,
    string? Validators,
    string? Reason)
{
    /// <summary>What the tools of its attempts said they spent; empty when none said.</summary>
    public ToolUsage Spend { get; init; } = ToolUsage.None;
}

/// <summary>
/// <c>StartedAt</c>: When its first task started; null when none did.<br/>
/// <c>CompletedAt</c>: When its last task ended.<br/>
/// <c>EstimateMs</c>: The longest estimate in the wave.<br/>
/// </summary>
public sealed record WaveRow(int Number, IReadOnlyList<string> Workstreams, IReadOnlyList<StateCount> States, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, long EstimateMs);

/// <summary>One worker's attempts in time order.</summary>
public sealed record GanttLane(string WorkerId, IReadOnlyList<GanttBar> Bars);

/// <summary>
/// <c>StartMs</c>: Milliseconds since the run started.<br/>
/// <c>EndMs</c>: Milliseconds since the run started (at least <see cref="StartMs"/>).<br/>
/// <c>State</c>: The step's state: completed, failed, or running for one that never ended.<br/>
/// </summary>
public sealed record GanttBar(string WorkstreamId, int Attempt, string State, long StartMs, long EndMs);

/// <summary>A retry, quarantine or rollback: which attempt, and why.</summary>
public sealed record Incident(string WorkstreamId, int Attempt, string Reason, DateTimeOffset At);

/// <summary>
/// <c>BusyMs</c>: Sum of its attempts' durations.<br/>
/// <c>Share</c>: Busy time over the run's wall time.<br/>
/// </summary>
public sealed record WorkerUsage(string WorkerId, int Attempts, long BusyMs, double? Share);
