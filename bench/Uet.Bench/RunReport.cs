using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Uet.Bench;

/// <summary>Prints the <c>run</c> suite's figures and verdicts, and writes them as JSON.</summary>
internal static class RunReport
{
    /// <summary>uet's overhead per task may be at most this many times ninja's.</summary>
    public const double NinjaTarget = 2.0;

    /// <summary>The sleep DAG's makespan may be at most this many times its lower bound.</summary>
    public const double MakespanTarget = 1.10;

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void PrintTable(TextWriter output, IReadOnlyList<RunRow> rows, MakespanResult? makespan)
    {
        output.WriteLine(F($"{"tasks",6} {"workers",7} {"uet s",8} {"ms/task",8} {"NORMAL",8} {"make s",8} {"ms/task",8} {"ninja s",8} {"ms/task",8} {"uet/ninja",9} {"verdict",8}"));
        foreach (var c in Comparisons(rows))
        {
            output.WriteLine(F($"{c.Size,6} {c.Workers,7} {c.Uet.Seconds,8:F2} {c.Uet.MsPerTask,8:F3} {Ms(c.Normal),8} {S(c.Make),8} {Ms(c.Make),8} {S(c.Ninja),8} {Ms(c.Ninja),8} {Ratio(c),9} {Verdict(c),8}"));
        }

        foreach (var spawn in rows.Where(r => r.Tool == RunBench.Spawn))
        {
            output.WriteLine(F($"spawn floor: {spawn.Size} x Process.Start(\"true\") + wait, {spawn.Workers} at a time: {spawn.Seconds:F2} s = {spawn.MsPerTask:F3} ms each"));
        }

        foreach (var spawn in rows.Where(r => r.Tool == RunBench.SpawnNative))
        {
            output.WriteLine(F($"spawn floor, uet's spawner: {spawn.Size} x posix_spawn(\"true\") + output pipe + wait, {spawn.Workers} at a time: {spawn.Seconds:F2} s = {spawn.MsPerTask:F3} ms each"));
        }

        output.WriteLine();
        output.WriteLine("ms/task = wall time / tasks (the overhead per task: the commands do nothing). uet s = RunSummary.Elapsed");
        output.WriteLine("  (plan, branch + integration worktree, every transition committed with synchronous=FULL), median of the runs,");
        output.WriteLine("  all after the warm-up (steady state; a fresh uet process also pays the JIT once: see README, cold command);");
        output.WriteLine("  NORMAL = the same with synchronous=NORMAL (diagnostic: FULL - NORMAL is the fsync share); make -r -s -jN, ninja -jN.");
        output.WriteLine(F($"uet/ninja = uet ms/task over ninja ms/task; target <= {NinjaTarget:F1}."));
        if (makespan is { } m)
        {
            output.WriteLine();
            output.WriteLine(F($"sleep DAG: {m.Tasks} tasks (0.1-0.5 s), {m.Workers} workers: critical path {m.CriticalPath:F2} s, total work {m.TotalWork:F1} s, lower bound {m.LowerBound:F2} s"));
            output.WriteLine(F($"  ideal list schedule (zero overhead, critical path first): {m.IdealList:F2} s = {m.IdealList / m.LowerBound:F3} x bound"));
            output.WriteLine(F($"  uet makespan {m.Seconds:F2} s (median of {m.Runs.Count}) = {m.Ratio:F3} x bound: {(m.Ratio <= MakespanTarget ? "PASS" : "MISS")} (target <= {MakespanTarget:F2})"));
            output.WriteLine(F($"  make -j{m.Workers}: {S(m.Make)} s ({(m.Make / m.LowerBound)?.ToString("F3", CultureInfo.InvariantCulture) ?? "-"} x), ninja -j{m.Workers}: {S(m.Ninja)} s ({(m.Ninja / m.LowerBound)?.ToString("F3", CultureInfo.InvariantCulture) ?? "-"} x)"));
        }
    }

    public static void WriteJson(string path, RunBenchOptions options, IReadOnlyList<RunRow> rows, MakespanResult? makespan)
    {
        var document = new
        {
            Suite = "run",
            Machine = Report.Machine(),
            ProcessorCount = Environment.ProcessorCount,
            Os = RuntimeInformation.OSDescription,
            Dotnet = Environment.Version.ToString(),
            options.Seed,
            options.Repeat,
            Rows = rows.Select(r => new { r.Tool, Tasks = r.Size, r.Workers, r.Seconds, r.MsPerTask, r.Runs }),
            Comparisons = Comparisons(rows).Select(c => new
            {
                Tasks = c.Size,
                c.Workers,
                UetSeconds = c.Uet.Seconds,
                UetMsPerTask = c.Uet.MsPerTask,
                NormalMsPerTask = c.Normal?.MsPerTask,
                MakeSeconds = c.Make?.Seconds,
                NinjaSeconds = c.Ninja?.Seconds,
                UetOverNinja = c.Ninja is null ? (double?)null : c.Uet.MsPerTask / c.Ninja.MsPerTask,
                Target = NinjaTarget,
            }),
            Makespan = makespan is null ? null : new
            {
                makespan.Tasks,
                makespan.Workers,
                makespan.CriticalPath,
                makespan.TotalWork,
                makespan.LowerBound,
                makespan.IdealList,
                UetSeconds = makespan.Seconds,
                UetOverBound = makespan.Ratio,
                Target = MakespanTarget,
                makespan.Runs,
                MakeSeconds = makespan.Make,
                NinjaSeconds = makespan.Ninja,
            },
        };
        File.WriteAllText(path, JsonSerializer.Serialize(document, JsonOptions));
    }

    private sealed record Comparison(int Size, int Workers, RunRow Uet, RunRow? Normal, RunRow? Make, RunRow? Ninja);

    private static IEnumerable<Comparison> Comparisons(IReadOnlyList<RunRow> rows) =>
        rows.Where(r => r.Tool == RunBench.Uet).Select(u => new Comparison(u.Size, u.Workers, u,
            Find(rows, RunBench.UetNormal, u), Find(rows, RunBench.Make, u), Find(rows, RunBench.Ninja, u)));

    private static RunRow? Find(IReadOnlyList<RunRow> rows, string tool, RunRow like) =>
        rows.FirstOrDefault(r => r.Tool == tool && r.Size == like.Size && r.Workers == like.Workers);

    private static string Ratio(Comparison c) => c.Ninja is null ? "-" : F($"{c.Uet.MsPerTask / c.Ninja.MsPerTask:F1}");

    private static string Verdict(Comparison c) =>
        c.Ninja is null ? "-" : c.Uet.MsPerTask / c.Ninja.MsPerTask <= NinjaTarget ? "PASS" : "MISS";

    private static string S(RunRow? row) => row is null ? "-" : F($"{row.Seconds:F2}");

    private static string S(double? seconds) => seconds is null ? "-" : F($"{seconds:F2}");

    private static string Ms(RunRow? row) => row is null ? "-" : F($"{row.MsPerTask:F3}");

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
