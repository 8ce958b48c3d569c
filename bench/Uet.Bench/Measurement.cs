using System.Diagnostics;
using Uet.Planning;
using Uet.Workstreams;

namespace Uet.Bench;

/// <summary>One run of load + validate + plan over a folder.</summary>
internal sealed record RunResult(
    double FindMs,
    double LoadMs,
    double PlanMs,
    long AllocatedBytes,
    long HeapBytesAfter,
    int Gen0,
    int Gen1,
    int Gen2,
    double GcPauseMs)
{
    public double TotalMs => LoadMs + PlanMs;
}

/// <summary>All runs of one size, plus what the data looked like.</summary>
internal sealed record SizeResult(
    int Size,
    int Files,
    int Workstreams,
    int Errors,
    int Warnings,
    int Waves,
    int CriticalPathLength,
    int Overlaps,
    RunResult Warmup,
    IReadOnlyList<RunResult> Runs,
    long PeakWorkingSetBytes)
{
    /// <summary>Median of the measured runs (the warm-up when it is the only run).</summary>
    public RunResult Typical
    {
        get
        {
            var runs = Runs.Count == 0 ? [Warmup] : Runs;
            var sorted = runs.OrderBy(r => r.TotalMs).ToArray();
            return sorted[(sorted.Length - 1) / 2];
        }
    }
}

/// <summary>Times the engine the way the CLI drives it: strict load (validation included), then the planner.</summary>
internal static class Measurement
{
    public static SizeResult Measure(string folder, int size, int repeat, PlanOptions planOptions)
    {
        var runs = new List<RunResult>();
        WorkstreamSet? lastSet = null;
        Plan? lastPlan = null;
        for (var r = 0; r < repeat; r++)
        {
            // Drop the previous run's result first so it does not count in this run's heap figure.
            lastSet = null;
            lastPlan = null;
            (var run, lastSet, lastPlan) = RunOnce(folder, planOptions);
            runs.Add(run);
        }

        // Peak working set is a process-wide high-water mark: honest per size only in a fresh process (--only-size).
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var peak = process.PeakWorkingSet64;
        return new SizeResult(
            size,
            lastSet!.FileCount,
            lastSet.Workstreams.Count,
            lastSet.ErrorCount,
            lastSet.WarningCount,
            lastPlan?.Waves.Count ?? 0,
            lastPlan?.CriticalPath.Workstreams.Count ?? 0,
            lastPlan?.Waves.Sum(w => w.Overlaps.Count) ?? 0,
            runs[0],
            runs.Skip(1).ToArray(),
            peak);
    }

    private static (RunResult Run, WorkstreamSet Set, Plan? Plan) RunOnce(string folder, PlanOptions planOptions)
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var pauseBefore = GC.GetTotalPauseDuration();
        var (g0, g1, g2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        var source = new WorkstreamSource([folder], "ws-*.json");

        // File discovery alone (it is repeated inside Load), to separate directory listing from parsing.
        var stopwatch = Stopwatch.StartNew();
        _ = WorkstreamLoader.FindFiles(source);
        var findMs = stopwatch.Elapsed.TotalMilliseconds;

        stopwatch.Restart();
        var set = WorkstreamLoader.Load(source, skipInvalid: false, CancellationToken.None);
        var loadMs = stopwatch.Elapsed.TotalMilliseconds;

        Plan? plan = null;
        var planMs = 0.0;
        if (set.ErrorCount == 0)
        {
            stopwatch.Restart();
            plan = Planner.Create(set.Workstreams, planOptions);
            planMs = stopwatch.Elapsed.TotalMilliseconds;
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var pauseMs = (GC.GetTotalPauseDuration() - pauseBefore).TotalMilliseconds;
        var gcs = (GC.CollectionCount(0) - g0, GC.CollectionCount(1) - g1, GC.CollectionCount(2) - g2);

        // Live heap with the set and the plan still reachable: what a caller holding both pays.
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var heap = GC.GetGCMemoryInfo(GCKind.FullBlocking).HeapSizeBytes;
        GC.KeepAlive(set);
        GC.KeepAlive(plan);
        return (new RunResult(findMs, loadMs, planMs, allocated, heap, gcs.Item1, gcs.Item2, gcs.Item3, pauseMs), set, plan);
    }
}
