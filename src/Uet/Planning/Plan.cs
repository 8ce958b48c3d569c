namespace Uet.Planning;

/// <summary>Inputs of the planner besides the workstreams; passed explicitly, never read from globals.</summary>
/// <param name="Workers">How many workers the time estimate assumes (at least 1).</param>
/// <param name="DefaultEstimate">Duration assumed for a workstream without an <c>estimate</c>.</param>
/// <param name="MaxOverlapsPerWave">Overlapping pairs listed per wave before the list is cut (the count stays exact up to the cut).</param>
public sealed record PlanOptions(int Workers, TimeSpan DefaultEstimate, int MaxOverlapsPerWave = 1000);

/// <summary>The plan: waves for showing, critical path, likely conflicts, and time estimates.</summary>
public sealed record Plan(
    PlanOptions Options,
    IReadOnlyList<PlannedWorkstream> Workstreams,
    IReadOnlyList<PlanWave> Waves,
    CriticalPath CriticalPath,
    PlanEstimates Estimates);

/// <param name="Id">The workstream id.</param>
/// <param name="Wave">1-based wave: 1 + the highest wave among its prerequisites.</param>
/// <param name="Estimate">Its expected duration.</param>
/// <param name="EstimateIsDefault">True when the workstream gave no estimate and the default was used.</param>
/// <param name="RemainingPath">Longest path from its start to the end of the plan: the dispatch priority.</param>
/// <param name="Prerequisites">Ids that must be done first (depends_on and reversed blocks).</param>
/// <param name="Rank">Dispatch order among all workstreams, 0 first: longest remaining path, then priority, then id.</param>
public sealed record PlannedWorkstream(
    string Id,
    int Wave,
    TimeSpan Estimate,
    bool EstimateIsDefault,
    TimeSpan RemainingPath,
    IReadOnlyList<string> Prerequisites,
    int Rank);

/// <param name="Number">1-based.</param>
/// <param name="Workstreams">Ids in dispatch order (longest remaining path first, then priority, then id).</param>
/// <param name="Overlaps">Pairs in this wave whose files_scope overlap: a likely merge conflict.</param>
/// <param name="OverlapsTruncated">True when more pairs overlap than <see cref="PlanOptions.MaxOverlapsPerWave"/>.</param>
/// <param name="ConflictGroups">conflict_group values held by two or more workstreams of this wave: they run one at a time.</param>
/// <param name="Exclusive">Workstreams with parallel_ok = false: each runs alone.</param>
public sealed record PlanWave(
    int Number,
    IReadOnlyList<string> Workstreams,
    IReadOnlyList<ScopeOverlap> Overlaps,
    bool OverlapsTruncated,
    IReadOnlyList<ConflictGroupNote> ConflictGroups,
    IReadOnlyList<string> Exclusive);

public sealed record ScopeOverlap(string A, string B, string ScopeA, string ScopeB);

public sealed record ConflictGroupNote(string Group, IReadOnlyList<string> Workstreams);

/// <summary>The longest chain by estimates: no number of workers finishes sooner than <see cref="Duration"/>.</summary>
public sealed record CriticalPath(IReadOnlyList<string> Workstreams, TimeSpan Duration);

/// <param name="Workers">Workers assumed.</param>
/// <param name="Sequential">Sum of all estimates: one worker.</param>
/// <param name="WaveBarrier">Each wave runs to its end before the next starts, on <see cref="Workers"/> workers.</param>
/// <param name="Dispatch">The real policy simulated: no barriers, critical path first, conflict groups respected.</param>
public sealed record PlanEstimates(int Workers, TimeSpan Sequential, TimeSpan WaveBarrier, TimeSpan Dispatch);
