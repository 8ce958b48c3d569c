namespace Uet.Planning;

/// <summary>
/// Simulates the scheduler's dispatch policy on estimates: a task is ready when its prerequisites are done;
/// free workers take the ready task of best rank (longest remaining path first); a task whose conflict group is
/// busy waits; a task that must run alone waits for the pool to drain, and nothing starts beside it.
/// </summary>
internal static class DispatchSimulator
{
    /// <param name="tasks">The tasks to run (node indices).</param>
    /// <param name="prerequisiteCount">Per node, how many prerequisites among <paramref name="tasks"/> it waits for.</param>
    /// <param name="dependents">Per node, the nodes waiting for it (only those among <paramref name="tasks"/> are counted down).</param>
    /// <param name="durations">Per node, its duration in ticks.</param>
    /// <param name="rank">Per node, its dispatch rank (lower first).</param>
    /// <param name="group">Per node, its conflict group number, or -1.</param>
    /// <param name="alone">Per node, whether it must run alone.</param>
    /// <param name="workers">How many tasks may run at once.</param>
    /// <returns>The makespan in ticks.</returns>
    public static long Run(
        IReadOnlyList<int> tasks,
        int[] prerequisiteCount,
        int[][]? dependents,
        long[] durations,
        int[] rank,
        int[] group,
        bool[] alone,
        int workers)
    {
        var ready = new PriorityQueue<int, int>();
        var running = new PriorityQueue<int, (long Finish, int Rank)>();
        var groupBusy = new Dictionary<int, bool>();
        var parked = new Dictionary<int, PriorityQueue<int, int>>();
        foreach (var t in tasks)
        {
            if (prerequisiteCount[t] == 0)
            {
                ready.Enqueue(t, rank[t]);
            }
        }

        long now = 0;
        var aloneRunning = false;
        var done = 0;
        while (done < tasks.Count)
        {
            while (running.Count < workers && ready.Count > 0 && !aloneRunning)
            {
                var t = ready.Peek();
                if (alone[t])
                {
                    if (running.Count > 0)
                    {
                        break; // drain the pool so the exclusive task is not starved
                    }

                    aloneRunning = true;
                }
                else if (group[t] >= 0 && groupBusy.GetValueOrDefault(group[t]))
                {
                    ready.Dequeue();
                    if (!parked.TryGetValue(group[t], out var queue))
                    {
                        parked[group[t]] = queue = new PriorityQueue<int, int>();
                    }

                    queue.Enqueue(t, rank[t]);
                    continue;
                }

                ready.Dequeue();
                if (group[t] >= 0)
                {
                    groupBusy[group[t]] = true;
                }

                running.Enqueue(t, (now + durations[t], rank[t]));
            }

            if (running.Count == 0)
            {
                throw new InvalidOperationException("dispatch simulation stalled: the graph has a cycle");
            }

            running.TryDequeue(out var finished, out var at);
            now = at.Finish;
            done++;
            if (alone[finished])
            {
                aloneRunning = false;
            }

            if (group[finished] >= 0)
            {
                groupBusy[group[finished]] = false;
                // Only the best waiting member needs to compete again: the group runs one at a time anyway.
                if (parked.TryGetValue(group[finished], out var queue) && queue.TryDequeue(out var next, out var nextRank))
                {
                    ready.Enqueue(next, nextRank);
                }
            }

            if (dependents is not null)
            {
                foreach (var d in dependents[finished])
                {
                    if (--prerequisiteCount[d] == 0)
                    {
                        ready.Enqueue(d, rank[d]);
                    }
                }
            }
        }

        return now;
    }
}
