using System.Globalization;

namespace Uet.Bench;

/// <summary>Options of the <c>run</c> suite (uet run of no-op and sleep DAGs against make and ninja).</summary>
internal sealed record RunBenchOptions
{
    public IReadOnlyList<int> Sizes { get; init; } = [1_000, 10_000];

    public IReadOnlyList<int> WorkersList { get; init; } = [2, 8];

    public int Seed { get; init; } = 42;

    /// <summary>Runs per configuration (median reported); sizes estimated over <see cref="LongSeconds"/> run once.</summary>
    public int Repeat { get; init; } = 3;

    public double LongSeconds { get; init; } = 180;

    /// <summary>Also run uet with synchronous=NORMAL at the smallest size (diagnostic: how much is fsync).</summary>
    public bool Normal { get; init; } = true;

    /// <summary>Also time Process.Start("true") alone (diagnostic: the process-spawn floor).</summary>
    public int SpawnCount { get; init; } = 1_000;

    public int SleepTasks { get; init; } = 40;

    public int SleepWorkers { get; init; } = 4;

    public bool Makespan { get; init; } = true;

    /// <summary>No-op tasks uet runs first, unreported, so that the measured runs are in steady state (JIT tiering done).</summary>
    public int WarmUp { get; init; } = 1_000;

    /// <summary>Run make and ninja too (off: uet alone, for comparing two builds of uet quickly).</summary>
    public bool Baselines { get; init; } = true;

    public string? Json { get; init; }

    public string? Dir { get; init; }

    /// <summary>Where the state databases go, when not in each repository (e.g. repositories on tmpfs, state on disk).</summary>
    public string? StateDir { get; init; }

    /// <summary>Files of 4 KiB besides README.md in each uet repository (the scratch folder each worker keeps and puts back).</summary>
    public int RepoFiles { get; init; }

    public const string Usage = """
        uet run benchmark: uet run of generated no-op DAGs (command true, isolation none, every transition durable)
        against GNU make -j and ninja on the same DAG, and the makespan of a DAG of sleep tasks against its lower bound.

          run                         select this suite (first argument)
          --sizes 1000,10000          workstream counts of the no-op DAG
          --workers-list 2,8          worker counts (make -j / ninja -j the same)
          --state-dir DIR             uet's state databases here instead of in each repository (e.g. --dir on
                                      tmpfs for the work files, the durable state on disk)
          --seed 42                   DAG generator seed
          --repeat 3                  runs per configuration (median); 1 when a size is estimated over --long-seconds
          --long-seconds 180          estimated uet time above which a configuration runs once
          --no-normal                 skip the synchronous=NORMAL diagnostic rows
          --spawn-count 1000          Process.Start("true") loop of the spawn-floor diagnostic (0 = skip)
          --sleep-tasks 40            tasks of the sleep DAG (0.1-0.5 s each)
          --sleep-workers 4           workers of the sleep DAG
          --no-makespan               skip the sleep DAG
          --warm-up 1000              no-op tasks uet runs first, not reported (steady state: .NET's JIT tiering done)
          --no-baselines              uet alone, no make or ninja (to compare two builds of uet; no verdict)
          --repo-files 0              files of 4 KiB (in folders of 100) besides README.md in uet's repository: the
                                      tree each worker's scratch folder copies and puts back before every task
          --dir DIR                   where to create the repositories (default: a temp dir, deleted afterwards)
          --json FILE                 also write the figures as JSON
        """;

    public static RunBenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new RunBenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--sizes" => options with { Sizes = List(Value()) },
                "--workers-list" => options with { WorkersList = List(Value()) },
                "--seed" => options with { Seed = Int(Value()) },
                "--repeat" => options with { Repeat = Positive(Value()) },
                "--long-seconds" => options with { LongSeconds = Positive(Value()) },
                "--no-normal" => options with { Normal = false },
                "--spawn-count" => options with { SpawnCount = Int(Value()) },
                "--sleep-tasks" => options with { SleepTasks = Positive(Value()) },
                "--sleep-workers" => options with { SleepWorkers = Positive(Value()) },
                "--no-makespan" => options with { Makespan = false },
                "--warm-up" => options with { WarmUp = Positive(Value()) },
                "--no-baselines" => options with { Baselines = false },
                "--dir" => options with { Dir = Value() },
                "--state-dir" => options with { StateDir = Value() },
                "--repo-files" => options with { RepoFiles = Int(Value()) },
                "--json" => options with { Json = Value() },
                _ => throw new ArgumentException($"unknown argument '{args[i]}'"),
            };
        }

        return options.Sizes.Count == 0 || options.WorkersList.Count == 0
            ? throw new ArgumentException("--sizes and --workers-list need at least one value")
            : options;
    }

    private static int[] List(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Positive).Distinct().Order().ToArray();

    private static int Int(string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 0
            ? value
            : throw new ArgumentException($"not a number >= 0: '{text}'");

    private static int Positive(string text)
    {
        var value = Int(text);
        return value > 0 ? value : throw new ArgumentException($"must be positive: '{text}'");
    }
}
