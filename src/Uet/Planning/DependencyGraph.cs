using Uet.Workstreams;

namespace Uet.Planning;

/// <summary>
/// Workstreams as integer nodes with edges from each prerequisite to the workstreams that need it
/// (<c>depends_on</c>, plus <c>blocks</c> turned around). Unknown ids are not edges; the loader reports them.
/// </summary>
public sealed class DependencyGraph
{
    private DependencyGraph(IReadOnlyList<Workstream> nodes, Dictionary<string, int> index, int[][] prerequisites, int[][] dependents)
    {
        Nodes = nodes;
        Index = index;
        Prerequisites = prerequisites;
        Dependents = dependents;
    }

    public IReadOnlyList<Workstream> Nodes { get; }

    public IReadOnlyDictionary<string, int> Index { get; }

    /// <summary>For each node, the nodes that must finish first (sorted, distinct).</summary>
    public int[][] Prerequisites { get; }

    /// <summary>For each node, the nodes waiting for it (sorted, distinct).</summary>
    public int[][] Dependents { get; }

    public int Count => Nodes.Count;

    /// <summary>Builds the graph; the first workstream of an id wins (duplicates are the loader's to report).</summary>
    public static DependencyGraph Build(IReadOnlyList<Workstream> workstreams)
    {
        var index = new Dictionary<string, int>(workstreams.Count, StringComparer.Ordinal);
        for (var i = 0; i < workstreams.Count; i++)
        {
            index.TryAdd(workstreams[i].Id, i);
        }

        // Two passes over flat arrays (count, then fill) instead of a list per node: 100,000 nodes stay cheap.
        var n = workstreams.Count;
        var counts = new int[n];
        ForEachEdge(workstreams, index, (from, to) => counts[to]++);
        var prerequisites = new int[n][];
        for (var i = 0; i < n; i++)
        {
            prerequisites[i] = counts[i] == 0 ? [] : new int[counts[i]];
            counts[i] = 0;
        }

        ForEachEdge(workstreams, index, (from, to) => prerequisites[to][counts[to]++] = from);
        var dependentCounts = new int[n];
        for (var i = 0; i < n; i++)
        {
            prerequisites[i] = SortedDistinct(prerequisites[i]);
            foreach (var p in prerequisites[i])
            {
                dependentCounts[p]++;
            }
        }

        var dependents = new int[n][];
        for (var i = 0; i < n; i++)
        {
            dependents[i] = dependentCounts[i] == 0 ? [] : new int[dependentCounts[i]];
            dependentCounts[i] = 0;
        }

        for (var i = 0; i < n; i++)
        {
            foreach (var p in prerequisites[i])
            {
                // i ascends, so each dependents list comes out sorted.
                dependents[p][dependentCounts[p]++] = i;
            }
        }

        return new DependencyGraph(workstreams, index, prerequisites, dependents);
    }

    private static void ForEachEdge(IReadOnlyList<Workstream> workstreams, Dictionary<string, int> index, Action<int, int> edge)
    {
        for (var i = 0; i < workstreams.Count; i++)
        {
            foreach (var dep in workstreams[i].DependsOn)
            {
                if (index.TryGetValue(dep.Id, out var d))
                {
                    edge(d, i);
                }
            }

            foreach (var blocked in workstreams[i].Blocks)
            {
                if (index.TryGetValue(blocked.Id, out var b))
                {
                    edge(i, b);
                }
            }
        }
    }

    private static int[] SortedDistinct(int[] values)
    {
        if (values.Length < 2)
        {
            return values;
        }

        Array.Sort(values);
        var count = 1;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] != values[count - 1])
            {
                values[count++] = values[i];
            }
        }

        return count == values.Length ? values : values[..count];
    }

    /// <summary>
    /// Every cycle, each as a closed path of ids (<c>ws-a -> ws-b -> ws-a</c>), one per strongly connected
    /// component. Iterative Tarjan, so a 100,000-long chain does not overflow the stack.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<string>> FindCycles()
    {
        var cycles = new List<IReadOnlyList<string>>();
        foreach (var component in StronglyConnectedComponents())
        {
            if (component.Count > 1 || Prerequisites[component[0]].Contains(component[0]))
            {
                cycles.Add(CyclePath(component));
            }
        }

        cycles.Sort((a, b) => string.CompareOrdinal(a[0], b[0]));
        return cycles;
    }

    private List<List<int>> StronglyConnectedComponents()
    {
        var n = Count;
        var order = new int[n];
        var low = new int[n];
        var onStack = new bool[n];
        Array.Fill(order, -1);
        var stack = new Stack<int>();
        var components = new List<List<int>>();
        var counter = 0;
        var work = new Stack<(int Node, int Edge)>();

        for (var start = 0; start < n; start++)
        {
            if (order[start] >= 0)
            {
                continue;
            }

            work.Push((start, 0));
            while (work.Count > 0)
            {
                var (v, edge) = work.Pop();
                if (edge == 0)
                {
                    order[v] = low[v] = counter++;
                    stack.Push(v);
                    onStack[v] = true;
                }

                var next = Prerequisites[v];
                var descended = false;
                for (var e = edge; e < next.Length; e++)
                {
                    var w = next[e];
                    if (order[w] < 0)
                    {
                        work.Push((v, e + 1));
                        work.Push((w, 0));
                        descended = true;
                        break;
                    }

                    if (onStack[w])
                    {
                        low[v] = Math.Min(low[v], order[w]);
                    }
                }

                if (descended)
                {
                    continue;
                }

                if (low[v] == order[v])
                {
                    var component = new List<int>();
                    int w;
                    do
                    {
                        w = stack.Pop();
                        onStack[w] = false;
                        component.Add(w);
                    }
                    while (w != v);
                    components.Add(component);
                }

                if (work.Count > 0)
                {
                    var parent = work.Peek().Node;
                    low[parent] = Math.Min(low[parent], low[v]);
                }
            }
        }

        return components;
    }

    // A shortest cycle through the component's smallest id, found by BFS inside the component:
    // printed in the direction a user reads it (ws-a depends on ws-b depends on ws-a).
    private List<string> CyclePath(List<int> component)
    {
        var members = component.ToHashSet();
        var start = component.MinBy(i => Nodes[i].Id, StringComparer.Ordinal);
        var parent = new Dictionary<int, int>();
        var queue = new Queue<int>();
        queue.Enqueue(start);
        var end = -1;
        while (queue.Count > 0 && end < 0)
        {
            var v = queue.Dequeue();
            foreach (var w in Prerequisites[v])
            {
                if (!members.Contains(w))
                {
                    continue;
                }

                if (w == start)
                {
                    end = v;
                    break;
                }

                if (parent.TryAdd(w, v))
                {
                    queue.Enqueue(w);
                }
            }
        }

        var path = new List<int> { start };
        var trail = new List<int>();
        for (var v = end; v != start; v = parent[v])
        {
            trail.Add(v);
        }

        trail.Reverse();
        path.AddRange(trail);
        path.Add(start);
        return path.Select(i => Nodes[i].Id).ToList();
    }
}
