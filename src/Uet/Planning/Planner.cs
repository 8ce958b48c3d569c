using System.Globalization;
using Uet.Workstreams;

namespace Uet.Planning;

/// <summary>
/// A pure function from workstreams to a <see cref="Plan"/>. Cycles are reported first (nothing else is
/// meaningful with one); then Kahn waves, longest remaining paths, overlaps and the three time estimates.
/// </summary>
public static class Planner
{
    public static Plan Create(IReadOnlyList<Workstream> workstreams, PlanOptions options)
    {
        ArgumentNullException.ThrowIfNull(workstreams);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Workers, 1);

        var graph = DependencyGraph.Build(workstreams);
        var cycles = graph.FindCycles();
        if (cycles.Count > 0)
        {
            throw PlanException.Cycles(cycles);
        }

        CheckReferences(graph);
        var n = graph.Count;
        var order = TopologicalOrder(graph);

        var durations = new long[n];
        var wave = new int[n];
        var remaining = new long[n];
        for (var i = 0; i < n; i++)
        {
            durations[i] = (workstreams[i].Estimate ?? options.DefaultEstimate).Ticks;
        }

        foreach (var v in order)
        {
            var highest = 0;
            foreach (var p in graph.Prerequisites[v])
            {
                highest = Math.Max(highest, wave[p]);
            }

            wave[v] = highest + 1;
        }

        for (var k = order.Length - 1; k >= 0; k--)
        {
            var v = order[k];
            long longest = 0;
            foreach (var d in graph.Dependents[v])
            {
                longest = Math.Max(longest, remaining[d]);
            }

            remaining[v] = durations[v] + longest;
        }

        var rank = Ranks(workstreams, remaining);
        var groups = GroupNumbers(workstreams);
        var alone = workstreams.Select(w => !w.ParallelOk).ToArray();

        var waves = BuildWaves(workstreams, wave, rank, options);
        var critical = CriticalPathOf(graph, remaining, rank);

        var sequential = durations.Sum();
        var prerequisiteCount = graph.Prerequisites.Select(p => p.Length).ToArray();
        var dispatch = DispatchSimulator.Run(Enumerable.Range(0, n).ToArray(), prerequisiteCount, graph.Dependents, durations, rank, groups, alone, options.Workers);
        long barrier = 0;
        var noPrerequisites = new int[n];
        foreach (var w in waves)
        {
            var members = w.Workstreams.Select(id => graph.Index[id]).ToArray();
            barrier += DispatchSimulator.Run(members, noPrerequisites, null, durations, rank, groups, alone, options.Workers);
        }

        var planned = new PlannedWorkstream[n];
        for (var i = 0; i < n; i++)
        {
            planned[i] = new PlannedWorkstream(
                workstreams[i].Id,
                wave[i],
                TimeSpan.FromTicks(durations[i]),
                workstreams[i].Estimate is null,
                TimeSpan.FromTicks(remaining[i]),
                graph.Prerequisites[i].Select(p => workstreams[p].Id).ToArray(),
                rank[i]);
        }

        return new Plan(
            options,
            planned,
            waves,
            critical,
            new PlanEstimates(options.Workers, TimeSpan.FromTicks(sequential), TimeSpan.FromTicks(barrier), TimeSpan.FromTicks(dispatch)));
    }

    private static void CheckReferences(DependencyGraph graph)
    {
        if (graph.Index.Count != graph.Count)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            throw PlanException.DuplicateId(graph.Nodes.First(w => !seen.Add(w.Id)).Id);
        }

        foreach (var ws in graph.Nodes)
        {
            foreach (var dep in ws.DependsOn.Concat(ws.Blocks))
            {
                if (!graph.Index.ContainsKey(dep.Id))
                {
                    throw PlanException.UnknownDependency(ws.Id, dep.Id);
                }
            }
        }
    }

    private static int[] TopologicalOrder(DependencyGraph graph)
    {
        var indegree = graph.Prerequisites.Select(p => p.Length).ToArray();
        var queue = new Queue<int>(Enumerable.Range(0, graph.Count).Where(i => indegree[i] == 0));
        var order = new int[graph.Count];
        var count = 0;
        while (queue.Count > 0)
        {
            var v = queue.Dequeue();
            order[count++] = v;
            foreach (var d in graph.Dependents[v])
            {
                if (--indegree[d] == 0)
                {
                    queue.Enqueue(d);
                }
            }
        }

        return order;
    }

    /// <summary>Dispatch order: longest remaining path first, then priority (P0 before P1, 1 before 2), then id.</summary>
    private static int[] Ranks(IReadOnlyList<Workstream> workstreams, long[] remaining)
    {
        var priority = workstreams.Select(PriorityRank).ToArray();
        var byRank = Enumerable.Range(0, workstreams.Count).ToArray();
        Array.Sort(byRank, (a, b) =>
        {
            var c = remaining[b].CompareTo(remaining[a]);
            if (c == 0)
            {
                c = priority[a].CompareTo(priority[b]);
            }

            return c != 0 ? c : string.CompareOrdinal(workstreams[a].Id, workstreams[b].Id);
        });
        var rank = new int[workstreams.Count];
        for (var r = 0; r < byRank.Length; r++)
        {
            rank[byRank[r]] = r;
        }

        return rank;
    }

    /// <summary>Lower is more urgent. Numbers as written; "P0-CRITICAL" style strings by their digit; else last.</summary>
    internal static int PriorityRank(Workstream ws)
    {
        if (!ws.Attributes.TryGetValue("priority", out var node) || node is null)
        {
            return int.MaxValue;
        }

        var text = node.ToString();
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        return text.Length >= 2 && (text[0] is 'P' or 'p') && char.IsAsciiDigit(text[1]) ? text[1] - '0' : int.MaxValue;
    }

    private static int[] GroupNumbers(IReadOnlyList<Workstream> workstreams)
    {
        var numbers = new Dictionary<string, int>(StringComparer.Ordinal);
        return workstreams
            .Select(w => w.ConflictGroup is null ? -1 : numbers.TryGetValue(w.ConflictGroup, out var g) ? g : numbers[w.ConflictGroup] = numbers.Count)
            .ToArray();
    }

    private static List<PlanWave> BuildWaves(IReadOnlyList<Workstream> workstreams, int[] wave, int[] rank, PlanOptions options)
    {
        var count = wave.Length == 0 ? 0 : wave.Max();
        var members = new List<int>[count];
        for (var w = 0; w < count; w++)
        {
            members[w] = [];
        }

        for (var i = 0; i < wave.Length; i++)
        {
            members[wave[i] - 1].Add(i);
        }

        var waves = new List<PlanWave>(count);
        for (var w = 0; w < count; w++)
        {
            var ids = members[w];
            ids.Sort((a, b) => rank[a].CompareTo(rank[b]));
            var inWave = ids.Select(i => workstreams[i]).ToArray();
            var (overlaps, truncated) = ScopeOverlapFinder.Find(inWave, options.MaxOverlapsPerWave);
            var groups = inWave
                .Where(ws => ws.ConflictGroup is not null)
                .GroupBy(ws => ws.ConflictGroup!, StringComparer.Ordinal)
                .Where(g => g.Count() > 1)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new ConflictGroupNote(g.Key, g.Select(ws => ws.Id).ToArray()))
                .ToArray();
            var exclusive = inWave.Where(ws => !ws.ParallelOk).Select(ws => ws.Id).ToArray();
            waves.Add(new PlanWave(w + 1, inWave.Select(ws => ws.Id).ToArray(), overlaps, truncated, groups, exclusive));
        }

        return waves;
    }

    private static CriticalPath CriticalPathOf(DependencyGraph graph, long[] remaining, int[] rank)
    {
        if (graph.Count == 0)
        {
            return new CriticalPath([], TimeSpan.Zero);
        }

        // The node of rank 0 has the longest remaining path of all; follow the best-ranked dependent that carries it.
        var current = Array.IndexOf(rank, 0);
        var total = remaining[current];
        var path = new List<string>();
        while (true)
        {
            path.Add(graph.Nodes[current].Id);
            var next = -1;
            foreach (var d in graph.Dependents[current])
            {
                if (next < 0 || remaining[d] > remaining[next] || (remaining[d] == remaining[next] && rank[d] < rank[next]))
                {
                    next = d;
                }
            }

            if (next < 0)
            {
                break;
            }

            current = next;
        }

        return new CriticalPath(path, TimeSpan.FromTicks(total));
    }
}
