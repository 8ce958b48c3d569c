using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Uet.Bench;

/// <summary>Prints the <c>state</c> suite's figures and writes them as JSON.</summary>
internal static class StateReport
{
    public const string Raw = "raw insert";
    public const string Transition = "transition";
    public const string SameSql = "same SQL";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void PrintRuns(TextWriter output, StateRow row)
    {
        var runs = string.Join(", ", row.Runs.Select(s => F($"{s:F3} s ({row.Count / s:F0}/s)")));
        output.WriteLine(F($"  sync={row.Sync} batch={row.Batch} {row.Mode}: warm-up {row.WarmupCount} ops in {row.WarmupSeconds:F3} s; {row.Count} ops per run: {runs}"));
    }

    public static void PrintTable(TextWriter output, IReadOnlyList<StateRow> rows)
    {
        output.WriteLine(F($"{"sync",-7} {"batch",6} {"mode",-11} {"count",7} {"seconds",8} {"ops/s",9} {"us/op",8} {"vs raw",7}"));
        foreach (var row in rows)
        {
            var ratio = RatioToRaw(rows, row);
            output.WriteLine(F($"{row.Sync,-7} {row.Batch,6} {row.Mode,-11} {row.Count,7} {row.Seconds,8:F3} {row.OpsPerSecond,9:F0} {1e6 / row.OpsPerSecond,8:F1} {ratio,7:P0}"));
        }

        output.WriteLine();
        output.WriteLine("transition = StateChanger.ChangeAsync on one worker (IDLE <-> BUSY): SELECT state, guarded UPDATE, event INSERT;");
        output.WriteLine("raw insert = one prepared INSERT into a scratch table, same file and pragmas; seconds = median of the runs.");
        output.WriteLine("same SQL = diagnostic: the transition's three statements hand-written and prepared once on one connection, no StateChanger;");
        output.WriteLine("  transition vs same SQL = the engine's own cost, same SQL vs raw insert = the database work of a transition.");
        output.WriteLine("vs raw = ops/s against the raw insert at the same sync and batch size (target: transitions at least 50 %).");
    }

    public static void WriteJson(string path, StateOptions options, IReadOnlyList<StateRow> rows)
    {
        var document = new
        {
            Suite = "state",
            Machine = Report.Machine(),
            ProcessorCount = Environment.ProcessorCount,
            Os = RuntimeInformation.OSDescription,
            Dotnet = Environment.Version.ToString(),
            options.Repeat,
            Rows = rows.Select(r => new
            {
                r.Sync,
                r.Batch,
                r.Mode,
                r.Count,
                r.Seconds,
                r.OpsPerSecond,
                RatioToRaw = RatioToRaw(rows, r),
                r.WarmupCount,
                r.WarmupSeconds,
                r.Runs,
            }),
        };
        File.WriteAllText(path, JsonSerializer.Serialize(document, JsonOptions));
    }

    private static double RatioToRaw(IReadOnlyList<StateRow> rows, StateRow row)
    {
        var raw = rows.First(r => r.Sync == row.Sync && r.Batch == row.Batch && r.Mode == Raw);
        return row.OpsPerSecond / raw.OpsPerSecond;
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
