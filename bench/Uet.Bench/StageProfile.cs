using System.Diagnostics;
using System.Globalization;
using Uet.Planning;
using Uet.Workstreams;

namespace Uet.Bench;

/// <summary>
/// <c>--profile</c>: times the stages of load and plan one by one, single-threaded, by calling the engine's
/// internal pieces directly (read, parse, bind, graph, cycles, overlaps, dispatch). Each stage runs twice and the
/// second (jitted) time is shown, next to the whole Load/Create for comparison. Points at hot spots; not exact,
/// because Load parses on all cores and the planner's private steps (waves, ranks) are only timed as a remainder.
/// </summary>
internal static class StageProfile
{
    public static void Run(TextWriter output, string folder, PlanOptions planOptions)
    {
        var files = WorkstreamLoader.FindFiles(new WorkstreamSource([folder], "ws-*.json"));
        output.WriteLine(F($"profile of {folder}: {files.Count} files (ms, second of two runs, single thread unless noted)"));

        byte[][] bytes = [];
        Time(output, "read files (File.ReadAllBytes)", () => bytes = files.Select(File.ReadAllBytes).ToArray());
        SourceNode[] roots = [];
        Time(output, "parse (JsonSourceReader.Read)", () => roots = bytes.Select(b => JsonSourceReader.Read(b)).ToArray());
        var workstreams = new List<Workstream>();
        Time(output, "bind (WorkstreamBinder.Bind)", () =>
        {
            workstreams = new List<Workstream>(files.Count);
            var diagnostics = new List<Diagnostic>();
            for (var i = 0; i < files.Count; i++)
            {
                workstreams.AddRange(WorkstreamBinder.Bind(files[i], roots[i], diagnostics).Select(b => b.Workstream!));
            }
        });
        bytes = [];
        roots = [];
        Time(output, "read+parse+bind per file, sequential", () => LoadFiles(files, parallel: false));
        Time(output, "read+parse+bind per file, Parallel.For (as Load)", () => LoadFiles(files, parallel: true));

        DependencyGraph graph = null!;
        Time(output, "DependencyGraph.Build", () => graph = DependencyGraph.Build(workstreams));
        Time(output, "DependencyGraph.FindCycles", () => graph.FindCycles());
        Time(output, "WorkstreamLoader.Load (whole, parallel parse)", () => WorkstreamLoader.Load(new WorkstreamSource([folder], "ws-*.json"), skipInvalid: false));

        Plan plan = null!;
        var planMs = Time(output, "Planner.Create (whole)", () => plan = Planner.Create(workstreams, planOptions));
        var byId = workstreams.ToDictionary(w => w.Id, StringComparer.Ordinal);
        var accounted = Time(output, "  DependencyGraph.Build + FindCycles (inside Create)", () => DependencyGraph.Build(workstreams).FindCycles());
        accounted += Time(output, "  ScopeOverlapFinder.Find, all waves", () =>
        {
            foreach (var wave in plan.Waves)
            {
                ScopeOverlapFinder.Find(wave.Workstreams.Select(id => byId[id]).ToArray(), planOptions.MaxOverlapsPerWave);
            }
        });
        accounted += TimeDispatch(output, graph, plan, workstreams, planOptions);
        output.WriteLine(F($"  {"rest of Create (waves, ranks, records)",-50} {planMs - accounted,8:F0}"));
    }

    private static double TimeDispatch(TextWriter output, DependencyGraph graph, Plan plan, List<Workstream> workstreams, PlanOptions planOptions)
    {
        var n = workstreams.Count;
        var durations = workstreams.Select(w => (w.Estimate ?? planOptions.DefaultEstimate).Ticks).ToArray();
        var rank = new int[n];
        var byRank = Enumerable.Range(0, n).OrderByDescending(i => plan.Workstreams[i].RemainingPath).ThenBy(i => workstreams[i].Id, StringComparer.Ordinal).ToArray();
        for (var r = 0; r < n; r++)
        {
            rank[byRank[r]] = r;
        }

        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var groups = workstreams.Select(w => w.ConflictGroup is null ? -1 : names.TryGetValue(w.ConflictGroup, out var g) ? g : names[w.ConflictGroup] = names.Count).ToArray();
        var alone = workstreams.Select(w => !w.ParallelOk).ToArray();
        var prerequisiteCount = graph.Prerequisites.Select(p => p.Length).ToArray();
        var all = Enumerable.Range(0, n).ToArray();
        var total = Time(output, "  DispatchSimulator.Run (whole graph)", () =>
            DispatchSimulator.Run(all, prerequisiteCount, graph.Dependents, durations, rank, groups, alone, planOptions.Workers));
        var none = new int[n];
        total += Time(output, "  DispatchSimulator.Run (per wave, barrier estimate)", () =>
        {
            foreach (var wave in plan.Waves)
            {
                var members = wave.Workstreams.Select(id => graph.Index[id]).ToArray();
                DispatchSimulator.Run(members, none, null, durations, rank, groups, alone, planOptions.Workers);
            }
        });
        return total;
    }

    private static void LoadFiles(IReadOnlyList<string> files, bool parallel)
    {
        var results = new IReadOnlyList<BoundWorkstream>[files.Count];
        void One(int i) => results[i] = WorkstreamBinder.Bind(files[i], JsonSourceReader.Read(File.ReadAllBytes(files[i])), []);
        if (parallel)
        {
            Parallel.For(0, files.Count, One);
        }
        else
        {
            for (var i = 0; i < files.Count; i++)
            {
                One(i);
            }
        }
    }

    private static double Time(TextWriter output, string stage, Action action)
    {
        action();
        GC.Collect();
        var pauseBefore = GC.GetTotalPauseDuration();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var stopwatch = Stopwatch.StartNew();
        action();
        var ms = stopwatch.Elapsed.TotalMilliseconds;
        var pause = (GC.GetTotalPauseDuration() - pauseBefore).TotalMilliseconds;
        var mib = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / (1024.0 * 1024.0);
        output.WriteLine(F($"{stage,-52} {ms,8:F0}   GC pauses {pause,5:F0} ms, allocated {mib,6:F0} MiB"));
        return ms;
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
