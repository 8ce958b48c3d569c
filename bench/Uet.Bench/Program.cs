using System.Diagnostics;
using System.Globalization;
using Uet.Bench;
using Uet.Planning;

if (args.Length > 0 && args[0] == "state")
{
    // The durable state transition suite; everything below is the scale benchmark, unchanged.
    return await StateBench.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "merge")
{
    // Validator runs per committed patch with the merge queue's batching off and on.
    return await MergeBench.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "run")
{
    // uet run of no-op DAGs against make and ninja, and a sleep DAG's makespan.
    return await RunBench.RunAsync(args[1..]);
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"uet-bench: {ex.Message}");
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

var planOptions = new PlanOptions(Workers: options.Workers, DefaultEstimate: TimeSpan.FromMinutes(30));
Console.WriteLine($"machine: {Report.Machine()}");

if (options.OnlySize is { } onlySize)
{
    // Cold mode: one size, an existing folder, a fresh process (run under /usr/bin/time -v for peak RSS).
    var single = Measurement.Measure(options.Dir!, onlySize, options.Repeat, planOptions);
    if (options.Profile)
    {
        StageProfile.Run(Console.Out, options.Dir!, planOptions);
    }

    return Finish([single]);
}

var root = options.Out ?? Path.Combine(Path.GetTempPath(), "uet-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
var results = new List<SizeResult>();
try
{
    foreach (var size in options.Sizes.Order())
    {
        var folder = Path.Combine(root, "n" + size.ToString(CultureInfo.InvariantCulture));
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        var stopwatch = Stopwatch.StartNew();
        var stats = DagGenerator.Generate(folder, size, options.Seed, options.Window);
        Console.WriteLine(F($"generated n={size} in {stopwatch.Elapsed.TotalSeconds:F1} s: {stats.Edges} edges ({(double)stats.Edges / size:F2}/ws), {stats.WithEstimate} estimates, {stats.WithComment} comments, {stats.WithConflictGroup} conflict groups, {stats.Exclusive} exclusive -> {folder}"));
        if (options.GenerateOnly)
        {
            continue;
        }

        var result = Measurement.Measure(folder, size, options.Repeat, planOptions);
        Report.PrintDetails(Console.Out, result);
        if (options.Profile)
        {
            StageProfile.Run(Console.Out, folder, planOptions);
        }

        results.Add(result);
        if (!options.Keep)
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
finally
{
    if (!options.Keep && options.Out is null && Directory.Exists(root))
    {
        Directory.Delete(root, recursive: true);
    }
}

return options.GenerateOnly ? 0 : Finish(results);

int Finish(IReadOnlyList<SizeResult> sized)
{
    Console.WriteLine();
    Report.PrintTable(Console.Out, sized);
    if (options.Json is not null)
    {
        Report.WriteJson(options.Json, options, sized);
    }

    // The benchmark doubles as a correctness check: generated data must load without errors, all of it.
    var failed = sized.Where(r => r.Errors > 0 || r.Workstreams != r.Size).ToArray();
    foreach (var r in failed)
    {
        Console.Error.WriteLine(F($"uet-bench: n={r.Size}: {r.Errors} load errors, {r.Workstreams} of {r.Size} workstreams loaded"));
    }

    return failed.Length == 0 ? 0 : 1;
}

static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
