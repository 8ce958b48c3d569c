namespace Uet.Planning;

/// <summary>
/// Simulates the scheduler's dispatch policy on estimates: a task is ready when its prerequisites are done;
/// free workers take the ready task of best rank (longest remaining path first); a task whose conflict group is
/// busy waits; a task that must run alone waits for the pool to drain, and nothing starts beside it. While it waits,
/// idle workers take only ready tasks that will be done by the time the pool has drained anyway (backfilling), so
/// the exclusive task is not delayed and the workers are not wasted.
/// </summary>
internal static class DispatchSimulator
{
    /// <summary>How many ready tasks a backfill looks through; bounds the cost when thousands are ready.</summary>
    private const int BackfillLookAhead = 1000;

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
        long latestFinish = 0; // while anything runs, the finish of the last one to end: when the pool has drained
        var aloneRunning = false;
        var done = 0;

        void Start(int t)
        {
            if (group[t] >= 0)
            {
                groupBusy[group[t]] = true;
            }

            aloneRunning |= alone[t];
            latestFinish = Math.Max(latestFinish, now + durations[t]);
            running.Enqueue(t, (now + durations[t], rank[t]));
        }

        void Park(int t)
        {
            if (!parked.TryGetValue(group[t], out var queue))
            {
                parked[group[t]] = queue = new PriorityQueue<int, int>();
            }

            queue.Enqueue(t, rank[t]);
        }

        void Backfill()
        {
            var kept = new List<int>();
            for (var look = 0; look < BackfillLookAhead && running.Count < workers && ready.TryDequeue(out var t, out _); look++)
            {
                if (alone[t] || now + durations[t] > latestFinish)
                {
                    kept.Add(t);
                }
                else if (group[t] >= 0 && groupBusy.GetValueOrDefault(group[t]))
                {
                    Park(t);
                }
                else
                {
                    Start(t);
                }
            }

            foreach (var t in kept)
            {
                ready.Enqueue(t, rank[t]);
            }
        }

        while (done < tasks.Count)
        {
            while (running.Count < workers && ready.Count > 0 && !aloneRunning)
            {
                var t = ready.Peek();
                if (alone[t] && running.Count > 0)
                {
                    Backfill();
                    break;
                }

                ready.Dequeue();
                if (!alone[t] && group[t] >= 0 && groupBusy.GetValueOrDefault(group[t]))
                {
                    Park(t);
                    continue;
                }

                Start(t);
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
