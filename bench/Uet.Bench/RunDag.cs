using System.Globalization;
using System.Text;
using Uet.Workstreams;

namespace Uet.Bench;

/// <summary>A generated DAG: node i depends on <see cref="Deps"/>[i] (all earlier); <see cref="Seconds"/> null = no-op.</summary>
internal sealed record RunDag(IReadOnlyList<string> Ids, IReadOnlyList<int[]> Deps, IReadOnlyList<double>? Seconds)
{
    public int Count => Ids.Count;

    public int Edges => Deps.Sum(d => d.Length);

    /// <summary>No-op DAG: each node depends on 0-3 distinct nodes among the previous <paramref name="window"/>.</summary>
    public static RunDag NoOp(int size, int seed, int window = 50) => Generate(size, seed, window, 3, withSeconds: false);

    /// <summary>Sleep DAG: 0.1-0.5 s per node (steps of 0.1), 0-2 dependencies among the previous 8.</summary>
    public static RunDag Sleep(int size, int seed) => Generate(size, seed, 8, 2, withSeconds: true);

    private static RunDag Generate(int size, int seed, int window, int maxDeps, bool withSeconds)
    {
        var random = new Random(seed);
        var ids = Enumerable.Range(1, size).Select(i => "ws-" + i.ToString("D6", CultureInfo.InvariantCulture)).ToArray();
        var deps = new int[size][];
        var seconds = withSeconds ? new double[size] : null;
        for (var i = 0; i < size; i++)
        {
            var from = Math.Max(0, i - window);
            var count = Math.Min(random.Next(0, maxDeps + 1), i - from);
            var picked = new SortedSet<int>();
            while (picked.Count < count)
            {
                picked.Add(random.Next(from, i));
            }

            deps[i] = [.. picked];
            if (seconds is not null)
            {
                seconds[i] = random.Next(1, 6) / 10.0;
            }
        }

        return new RunDag(ids, deps, seconds);
    }

    public string[] CommandOf(int i) => Seconds is null ? ["true"] : ["sleep", Seconds[i].ToString("0.0##", CultureInfo.InvariantCulture)];

    public IReadOnlyList<Workstream> Workstreams() =>
        Enumerable.Range(0, Count).Select(i => new Workstream
        {
            Id = Ids[i],
            Location = new SourceLocation("gen", i + 1, 1),
            DependsOn = Deps[i].Select(d => new DependencyRef(Ids[d], default)).ToArray(),
            Tool = "command",
            Command = CommandOf(i),
            Estimate = Seconds is null ? null : TimeSpan.FromSeconds(Seconds[i]),
        }).ToArray();

    /// <summary>One phony target per node, recipe = the command; <c>all</c> depends on every node.</summary>
    public string Makefile()
    {
        var text = new StringBuilder();
        text.Append(".PHONY: all ").AppendJoin(' ', Ids).Append('\n');
        text.Append("all: ").AppendJoin(' ', Ids).Append('\n');
        for (var i = 0; i < Count; i++)
        {
            text.Append(Ids[i]).Append(':').AppendJoin("", Deps[i].Select(d => " " + Ids[d])).Append('\n');
            text.Append("\t@").AppendJoin(' ', CommandOf(i)).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>One edge per node whose output is never created (always dirty, runs once per invocation); deps are implicit inputs.</summary>
    public string Ninja()
    {
        var text = new StringBuilder("rule t\n  command = $cmd\n");
        for (var i = 0; i < Count; i++)
        {
            text.Append("build ").Append(Ids[i]).Append(": t");
            if (Deps[i].Length > 0)
            {
                text.Append(" |").AppendJoin("", Deps[i].Select(d => " " + Ids[d]));
            }

            text.Append("\n  cmd = ").AppendJoin(' ', CommandOf(i)).Append('\n');
        }

        text.Append("build all: phony ").AppendJoin(' ', Ids).Append("\ndefault all\n");
        return text.ToString();
    }

    /// <summary>Longest path through the DAG, each node weighing its duration (0 for a no-op DAG).</summary>
    public double CriticalPath() => Earliest().Select((start, i) => start + Duration(i)).DefaultIfEmpty(0).Max();

    public double TotalWork() => Enumerable.Range(0, Count).Sum(Duration);

    /// <summary>Makespan of an ideal list schedule (zero overhead, longest-remaining-path first) on <paramref name="workers"/>.</summary>
    public double IdealListSchedule(int workers)
    {
        var tail = new double[Count];
        var dependents = Enumerable.Range(0, Count).Select(_ => new List<int>()).ToArray();
        for (var i = 0; i < Count; i++)
        {
            foreach (var d in Deps[i])
            {
                dependents[d].Add(i);
            }
        }

        for (var i = Count - 1; i >= 0; i--)
        {
            tail[i] = Duration(i) + dependents[i].Select(j => tail[j]).DefaultIfEmpty(0).Max();
        }

        var waiting = Deps.Select(d => d.Length).ToArray();
        var ready = new PriorityQueue<int, double>(Enumerable.Range(0, Count).Where(i => waiting[i] == 0).Select(i => (i, -tail[i])));
        var running = new PriorityQueue<int, double>();
        var now = 0.0;
        while (ready.Count > 0 || running.Count > 0)
        {
            while (running.Count < workers && ready.TryDequeue(out var next, out _))
            {
                running.Enqueue(next, now + Duration(next));
            }

            running.TryDequeue(out var done, out now);
            foreach (var j in dependents[done].Where(j => --waiting[j] == 0))
            {
                ready.Enqueue(j, -tail[j]);
            }
        }

        return now;
    }

    private double Duration(int i) => Seconds?[i] ?? 0;

    private double[] Earliest()
    {
        var start = new double[Count];
        for (var i = 0; i < Count; i++)
        {
            start[i] = Deps[i].Select(d => start[d] + Duration(d)).DefaultIfEmpty(0).Max();
        }

        return start;
    }
}
