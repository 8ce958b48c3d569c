using System.Diagnostics;
using System.Globalization;
using Uet.Config;
using Uet.Execution;
using Uet.State.Sqlite;
using Uet.Workstreams;

namespace Uet.Bench;

/// <summary>
/// The <c>merge</c> suite: validator runs per committed patch with the merge queue's batching off and on. A plan of
/// independent workstreams each adds one file; one in twenty (seeded) adds a file the validator rejects. The same plan
/// runs with each batch size in a fresh repository through the real engine (worktrees, patches, the queue), and the
/// outcomes are compared with the one-at-a-time run: same commits, same tree.
/// </summary>
internal static class MergeBench
{
    private const string Usage = "usage: uet-bench merge [--size N] [--workers N] [--batch-sizes 1,4,8] [--validator-ms MS] [--seed N] [--dir PATH]";

    private sealed record Row(int BatchSize, int Committed, int RolledBack, int ValidatorRuns, double Seconds, string Tree, string Commits);

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        int size = 100, workers = 4, validatorMs = 200, seed = 1;
        int[] batchSizes = [1, 4, 8];
        string? dir = null;
        try
        {
            for (var i = 0; i < args.Count; i++)
            {
                string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--size": size = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--workers": workers = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--validator-ms": validatorMs = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--seed": seed = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--dir": dir = Value(); break;
                    case "--batch-sizes": batchSizes = [.. Value().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))]; break;
                    default: throw new ArgumentException($"unknown option {args[i]}");
                }
            }
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            Console.Error.WriteLine($"uet-bench merge: {ex.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        // One bad patch in each block of twenty, at a seeded place.
        var random = new Random(seed);
        var bad = Enumerable.Range(0, (size + 19) / 20).Select(b => (b * 20) + random.Next(Math.Min(20, size - (b * 20)))).ToHashSet();
        Console.WriteLine($"machine: {Report.Machine()}");
        Console.WriteLine($"plan: {size} independent workstreams, {bad.Count} rejected by the validator ({string.Join(' ', bad.Order())}); {workers} workers; validator sleeps {validatorMs} ms");
        var root = dir ?? Path.Combine(Path.GetTempPath(), "uet-mergebench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(root);
        var rows = new List<Row>();
        try
        {
            foreach (var k in batchSizes)
            {
                var row = await RunOnceAsync(Path.Combine(root, "k" + k.ToString(CultureInfo.InvariantCulture)), size, bad, workers, validatorMs, k);
                rows.Add(row);
                Console.WriteLine(FormattableString.Invariant($"batch_size {k}: {row.Committed} committed, {row.RolledBack} rolled back, {row.ValidatorRuns} validator runs in {row.Seconds:F1} s"));
            }
        }
        finally
        {
            if (dir is null)
            {
                Directory.Delete(root, recursive: true);
            }
        }

        var baseline = rows[0];
        Console.WriteLine();
        Console.WriteLine("| batch_size | committed | rolled back | validator runs | runs per committed patch | vs batch_size " + baseline.BatchSize.ToString(CultureInfo.InvariantCulture) + " | wall s | same result |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|:---|");
        foreach (var row in rows)
        {
            var perPatch = (double)row.ValidatorRuns / Math.Max(1, row.Committed);
            var basePerPatch = (double)baseline.ValidatorRuns / Math.Max(1, baseline.Committed);
            var same = row.Tree == baseline.Tree && row.Commits == baseline.Commits ? "yes" : "NO";
            Console.WriteLine(FormattableString.Invariant($"| {row.BatchSize} | {row.Committed} | {row.RolledBack} | {row.ValidatorRuns} | {perPatch:F2} | {perPatch / basePerPatch:F2}x | {row.Seconds:F1} | {same} |"));
        }

        return rows.All(r => r.Tree == baseline.Tree && r.Commits == baseline.Commits) ? 0 : 1;
    }

    private static async Task<Row> RunOnceAsync(string repo, int size, HashSet<int> bad, int workers, int validatorMs, int batchSize)
    {
        if (Directory.Exists(repo))
        {
            Directory.Delete(repo, recursive: true);
        }

        Directory.CreateDirectory(repo);
        await File.WriteAllTextAsync(Path.Combine(repo, "README.md"), "bench\n");
        await RunTargets.GitAsync(repo, "init", "-q", "-b", "main");
        await RunTargets.GitAsync(repo, "add", "README.md");
        await RunTargets.GitAsync(repo, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q", "-m", "init");
        var counter = Path.Combine(Path.GetDirectoryName(repo)!, Path.GetFileName(repo) + ".validator-runs");
        File.Delete(counter);
        var sleep = (validatorMs / 1000.0).ToString("0.###", CultureInfo.InvariantCulture);
        var config = ConfigLoader.Parse($$"""
            execution:
              retry_policy: { max_retries: 0, backoff_seconds: 0 }
            validation:
              validators:
                - name: tests
                  run: [sh, -c, "sleep {{sleep}}; echo run >> '{{counter}}'; for f in bad-*; do [ -e \"$f\" ] && exit 1; done; exit 0"]
            integration:
              batch_size: {{batchSize}}
            """);
        var workstreams = Enumerable.Range(0, size).Select(i =>
        {
            var file = bad.Contains(i) ? $"bad-{i:000}.txt" : $"ok-{i:000}.txt";
            return new Workstream
            {
                Id = $"ws-{i:000}",
                Location = new SourceLocation("bench", 1, 1),
                FilesScope = [file],
                Tasks = [$"add {file}"],
                Command = ["sh", "-c", $"echo {i} > {file}"],
            };
        }).ToArray();
        await using var store = SqliteStateStore.Open(Path.Combine(repo, ".state", "uet.db"), TimeProvider.System, create: true);
        await store.MigrateAsync(null, CancellationToken.None);
        var executor = new RunExecutor(repo, config, store, TimeProvider.System, Redactor.None, _ => { });
        var stopwatch = Stopwatch.StartNew();
        var summary = await executor.RunAsync(workstreams, new RunOptions(workers, RunId: "r-bench"), CancellationToken.None);
        var seconds = stopwatch.Elapsed.TotalSeconds;
        var (_, tree) = await RunTargets.ExecAsync(repo, "git", ["rev-parse", "uet/r-bench^{tree}"]);
        var (_, commits) = await RunTargets.ExecAsync(repo, "git", ["log", "--format=%(trailers:key=Uet-Workstream,valueonly)", "main..uet/r-bench"]);
        return new Row(
            batchSize,
            summary.Tasks.Count(t => t.Result == TaskResult.Completed),
            summary.Tasks.Count(t => t.Result == TaskResult.RolledBack),
            File.Exists(counter) ? File.ReadAllLines(counter).Length : 0,
            seconds,
            tree.Trim(),
            string.Join(',', commits.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal)));
    }
}
