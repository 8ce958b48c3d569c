using System.Globalization;
using Uet.State.Sqlite;

namespace Uet.Bench;

/// <summary>One measured row: a side (engine or raw) at one synchronous setting and batch size.</summary>
internal sealed record StateRow(string Sync, int Batch, string Mode, int Count, int WarmupCount, double WarmupSeconds, IReadOnlyList<double> Runs)
{
    /// <summary>Lower median of the measured runs.</summary>
    public double Seconds => Runs.Order().ElementAt((Runs.Count - 1) / 2);

    public double OpsPerSecond => Count / Seconds;
}

/// <summary>The <c>state</c> suite: durable transitions per second against a raw INSERT loop, same file, same run.</summary>
internal static class StateBench
{
    private const string WorkerId = "w-bench";

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        StateOptions options;
        try
        {
            options = StateOptions.Parse(args);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine($"uet-bench state: {ex.Message}");
            Console.Error.WriteLine(StateOptions.Usage);
            return 2;
        }

        Console.WriteLine($"machine: {Report.Machine()}");
        var root = options.Dir ?? Path.Combine(Path.GetTempPath(), "uet-statebench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        var path = Path.Combine(root, "state.db");
        Console.WriteLine($"database: {path} (WAL, foreign keys on)");
        Directory.CreateDirectory(root);
        DeleteDatabase(path);
        try
        {
            var store = SqliteStateStore.Open(path, TimeProvider.System, create: true);
            try
            {
                return await MeasureAsync(store, options);
            }
            finally
            {
                await store.DisposeAsync();
            }
        }
        finally
        {
            if (options.Dir is null && Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
            else
            {
                DeleteDatabase(path);
            }
        }
    }

    private static async Task<int> MeasureAsync(SqliteStateStore store, StateOptions options)
    {
        var ct = CancellationToken.None;
        await store.MigrateAsync(null, ct);
        RawTarget.CreateTable(store);
        await using var normalStore = SqliteStateStore.Open(store.Path, TimeProvider.System, synchronous: SqliteSynchronous.Normal);
        var engine = await EngineTarget.CreateAsync(store, normalStore, WorkerId, ct);

        var cases = new List<(string Sync, int Batch, int Count)> { ("FULL", 1, options.SingleCount) };
        cases.AddRange(options.Batches.Select(b => ("FULL", b, options.Count)));
        if (options.Normal)
        {
            cases.Add(("NORMAL", 1, options.NormalCount));
        }

        var rows = new List<StateRow>();
        foreach (var (sync, batch, count) in cases)
        {
            var normal = sync == "NORMAL";
            // Warm-up: JIT, page cache, WAL file grown; a tenth of the count, at least two transactions.
            var warm = Math.Max(2 * batch, count / 10);
            var warmRaw = RawTarget.Run(store, warm, batch, normal);
            var warmEngine = await engine.RunAsync(warm, batch, normal, ct);
            var warmSql = engine.RunSameSql(warm, batch, normal);
            var raw = new List<double>();
            var changes = new List<double>();
            var sameSql = new List<double>();
            for (var r = 0; r < options.Repeat; r++)
            {
                // Alternate which side goes first, so neither always meets a fuller WAL or a pending checkpoint.
                if (r % 2 == 0)
                {
                    raw.Add(RawTarget.Run(store, count, batch, normal));
                    changes.Add(await engine.RunAsync(count, batch, normal, ct));
                    sameSql.Add(engine.RunSameSql(count, batch, normal));
                }
                else
                {
                    sameSql.Add(engine.RunSameSql(count, batch, normal));
                    changes.Add(await engine.RunAsync(count, batch, normal, ct));
                    raw.Add(RawTarget.Run(store, count, batch, normal));
                }
            }

            StateRow[] measured =
            [
                new(sync, batch, StateReport.Raw, count, warm, warmRaw, raw),
                new(sync, batch, StateReport.Transition, count, warm, warmEngine, changes),
                new(sync, batch, StateReport.SameSql, count, warm, warmSql, sameSql),
            ];
            foreach (var row in measured)
            {
                StateReport.PrintRuns(Console.Out, row);
            }

            rows.AddRange(measured);
        }

        Console.WriteLine();
        StateReport.PrintTable(Console.Out, rows);
        if (options.Json is not null)
        {
            StateReport.WriteJson(options.Json, options, rows);
        }

        // Also a correctness check: every transition wrote exactly one event, and the worker ended where the chain says.
        var events = RawTarget.Scalar(store, $"SELECT COUNT(*) FROM events WHERE entity = 'worker' AND entity_id = '{WorkerId}'");
        var expected = engine.Transitions + 2; // created + SPAWNING -> IDLE; the same-SQL rows write events too
        if (events != expected)
        {
            Console.Error.WriteLine($"uet-bench state: {events} events for {expected} expected");
            return 1;
        }

        Console.WriteLine($"check: {events} worker events for {engine.Transitions} transitions + created + SPAWNING -> IDLE: ok");
        return 0;
    }

    private static void DeleteDatabase(string path)
    {
        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            File.Delete(file);
        }
    }
}
