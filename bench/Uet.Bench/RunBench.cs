using System.Globalization;
using Uet.State.Sqlite;

namespace Uet.Bench;

/// <summary>One measured configuration of the <c>run</c> suite: a tool on a DAG size with N workers.</summary>
internal sealed record RunRow(string Tool, int Size, int Workers, IReadOnlyList<double> Runs)
{
    /// <summary>Lower median of the runs.</summary>
    public double Seconds => Runs.Order().ElementAt((Runs.Count - 1) / 2);

    public double MsPerTask => 1000 * Seconds / Size;
}

/// <summary>The sleep DAG: measured makespans against max(critical path, total work / workers).</summary>
internal sealed record MakespanResult(int Tasks, int Workers, double CriticalPath, double TotalWork, double IdealList, IReadOnlyList<double> Runs, double? Make, double? Ninja)
{
    public double LowerBound => Math.Max(CriticalPath, TotalWork / Workers);

    public double Seconds => Runs.Order().ElementAt((Runs.Count - 1) / 2);

    public double Ratio => Seconds / LowerBound;
}

/// <summary>The <c>run</c> suite: uet run of no-op DAGs against make and ninja, and a sleep DAG's makespan.</summary>
internal static class RunBench
{
    public const string Uet = "uet";
    public const string UetNormal = "uet NORMAL";
    public const string Make = "make";
    public const string Ninja = "ninja";
    public const string Spawn = "spawn";
    public const string SpawnNative = "spawn native";

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        RunBenchOptions options;
        try
        {
            options = RunBenchOptions.Parse(args);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine($"uet-bench run: {ex.Message}");
            Console.Error.WriteLine(RunBenchOptions.Usage);
            return 2;
        }

        Console.WriteLine($"machine: {Report.Machine()}");
        RunTargets.StateDir = options.StateDir;
        RunTargets.RepoFiles = options.RepoFiles;
        if (options.RepoFiles > 0)
        {
            Console.WriteLine($"uet's repositories hold {options.RepoFiles} more files of 4 KiB");
        }

        if (options.StateDir is not null)
        {
            Directory.CreateDirectory(options.StateDir);
            Console.WriteLine($"state databases in {options.StateDir}");
        }

        Console.WriteLine($"make: {await RunTargets.VersionAsync("make")}; ninja: {await RunTargets.VersionAsync("ninja")}");
        var root = options.Dir ?? Path.Combine(Path.GetTempPath(), "uet-runbench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(root);
        try
        {
            var rows = await NoOpAsync(root, options);
            var makespan = options.Makespan ? await MakespanAsync(root, options) : null;
            Console.WriteLine();
            RunReport.PrintTable(Console.Out, rows, makespan);
            if (options.Json is not null)
            {
                RunReport.WriteJson(options.Json, options, rows, makespan);
            }

            return 0;
        }
        finally
        {
            if (options.Dir is null && Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    private static async Task<List<RunRow>> NoOpAsync(string root, RunBenchOptions options)
    {
        var rows = new List<RunRow>();
        // The figures are per task in steady state: .NET compiles uet's hot paths fully only after it has counted their
        // calls, and it starts counting 100 ms after the last new method, so a short warm-up left the first measured runs
        // partly unoptimized (1,000 tasks: 0.87-0.95 ms/task after 100 warm-up tasks, 0.78 with counting from the start).
        // A fresh process pays that once; README gives the cold command's time apart.
        var seconds = await RunTargets.UetAsync(root, RunDag.NoOp(options.WarmUp, options.Seed), 2, SqliteSynchronous.Full);
        Console.WriteLine(F($"warm-up: uet {options.WarmUp} tasks, 2 workers: {seconds:F2} s (not reported)"));
        if (options.SpawnCount > 0)
        {
            foreach (var parallel in new[] { 1 }.Concat(options.WorkersList).Distinct())
            {
                var spawn = new RunRow(Spawn, options.SpawnCount, parallel, [await RunTargets.SpawnAsync(options.SpawnCount, parallel)]);
                Print(spawn);
                rows.Add(spawn);
                if (await RunTargets.SpawnNativeAsync(options.SpawnCount, parallel) is { } native)
                {
                    var row = new RunRow(SpawnNative, options.SpawnCount, parallel, [native]);
                    Print(row);
                    rows.Add(row);
                }
            }
        }

        foreach (var size in options.Sizes)
        {
            var dag = RunDag.NoOp(size, options.Seed);
            Console.WriteLine(F($"n={size}: {dag.Edges} edges ({(double)dag.Edges / size:F2}/task)"));
            foreach (var workers in options.WorkersList)
            {
                var repeat = Repeats(options, rows, size, workers);
                var uet = new List<double>();
                var make = new List<double>();
                var ninja = new List<double>();
                for (var r = 0; r < repeat; r++)
                {
                    uet.Add(await RunTargets.UetAsync(root, dag, workers, SqliteSynchronous.Full));
                    if (!options.Baselines)
                    {
                        continue;
                    }

                    if (await RunTargets.MakeAsync(root, dag, workers) is { } m)
                    {
                        make.Add(m);
                    }

                    if (await RunTargets.NinjaAsync(root, dag, workers) is { } n)
                    {
                        ninja.Add(n);
                    }
                }

                List<RunRow> measured = [new(Uet, size, workers, uet)];
                if (options.Normal && size == options.Sizes[0])
                {
                    var normal = new List<double>();
                    for (var r = 0; r < repeat; r++)
                    {
                        normal.Add(await RunTargets.UetAsync(root, dag, workers, SqliteSynchronous.Normal));
                    }

                    measured.Add(new(UetNormal, size, workers, normal));
                }

                if (options.Baselines)
                {
                    AddOrSkip(measured, Make, size, workers, make);
                    AddOrSkip(measured, Ninja, size, workers, ninja);
                }

                measured.ForEach(Print);
                rows.AddRange(measured);
            }
        }

        return rows;
    }

    private static async Task<MakespanResult> MakespanAsync(string root, RunBenchOptions options)
    {
        var dag = RunDag.Sleep(options.SleepTasks, options.Seed);
        var workers = options.SleepWorkers;
        var runs = new List<double>();
        for (var r = 0; r < options.Repeat; r++)
        {
            runs.Add(await RunTargets.UetAsync(root, dag, workers, SqliteSynchronous.Full));
        }

        var result = new MakespanResult(dag.Count, workers, dag.CriticalPath(), dag.TotalWork(), dag.IdealListSchedule(workers), runs,
            await RunTargets.MakeAsync(root, dag, workers), await RunTargets.NinjaAsync(root, dag, workers));
        Console.WriteLine(F($"sleep DAG: {dag.Count} tasks, {dag.Edges} edges, {workers} workers: uet runs {Join(runs)}"));
        return result;
    }

    /// <summary>The configured repeats, or 1 when the smallest measured size at these workers extrapolates over the limit.</summary>
    private static int Repeats(RunBenchOptions options, List<RunRow> rows, int size, int workers)
    {
        var measured = rows.Where(r => r.Tool == Uet && r.Workers == workers).MinBy(r => r.Size);
        var estimate = measured is null ? 0 : measured.MsPerTask * size / 1000 * options.Repeat;
        if (estimate > options.LongSeconds)
        {
            Console.WriteLine(F($"  n={size} w={workers}: estimated {estimate / options.Repeat:F0} s per uet run, running once"));
            return 1;
        }

        return options.Repeat;
    }

    private static void AddOrSkip(List<RunRow> rows, string tool, int size, int workers, List<double> runs)
    {
        if (runs.Count == 0)
        {
            Console.WriteLine($"  {tool}: not installed, skipped");
            return;
        }

        rows.Add(new RunRow(tool, size, workers, runs));
    }

    private static void Print(RunRow row) =>
        Console.WriteLine(F($"  {row.Tool,-10} n={row.Size,6} w={row.Workers}: {row.MsPerTask,7:F3} ms/task; runs {Join(row.Runs)}"));

    private static string Join(IEnumerable<double> runs) => string.Join(", ", runs.Select(s => F($"{s:F3} s")));

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
