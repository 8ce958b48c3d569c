using System.Text;

namespace Uet.Reporting;

/// <summary>
/// The workers' lanes as a Mermaid gantt chart: one section per worker, one bar per attempt. Times are milliseconds
/// since the run started (dateFormat x), so the axis reads as elapsed time.
/// </summary>
internal static class MermaidGantt
{
    /// <summary>
    /// Bars drawn at most: Mermaid refuses a diagram of more than 50,000 characters (its maxTextSize, also on GitHub),
    /// about a thousand bars; a long run's chart shows its first attempts and the HTML report draws them all.
    /// </summary>
    public const int MaxBars = 500;

    /// <summary>How many attempts the chart of <paramref name="report"/> leaves out (0 when it draws them all).</summary>
    public static int Omitted(ExecutionReport report) => Math.Max(0, report.Lanes.Sum(l => l.Bars.Count) - MaxBars);

    public static string Render(ExecutionReport report)
    {
        // The first attempts by start, so the chart is a window of the run's beginning, every lane in it.
        var drawn = report.Lanes.SelectMany(l => l.Bars).OrderBy(b => b.StartMs).Take(MaxBars).ToHashSet();
        var text = new StringBuilder();
        text.Append("gantt\n");
        text.Append("    title Workers of run ").Append(Label(report.RunId)).Append('\n');
        text.Append("    dateFormat x\n");
        text.Append("    axisFormat ").Append(report.WallMs < 3_600_000 ? "%M:%S" : "%H:%M").Append('\n');
        var n = 0;
        foreach (var lane in report.Lanes)
        {
            text.Append("    section ").Append(Label(lane.WorkerId)).Append('\n');
            foreach (var bar in lane.Bars.Where(drawn.Contains))
            {
                var tag = bar.State switch
                {
                    "completed" => "done, ",
                    "failed" => "crit, ",
                    _ => "active, ",
                };
                // A zero-length bar is not drawn: every attempt gets at least one millisecond.
                text.Append("    ").Append(Label($"{bar.WorkstreamId} ({bar.Attempt})")).Append(" :").Append(tag)
                    .Append('b').Append(ReportText.Number(++n)).Append(", ")
                    .Append(ReportText.Number(bar.StartMs)).Append(", ").Append(ReportText.Number(Math.Max(bar.EndMs, bar.StartMs + 1))).Append('\n');
            }
        }

        return text.ToString();
    }

    // ':' ends a task name and '#' / ';' start comments and entities in Mermaid: keep names to safe characters.
    private static string Label(string text)
    {
        var safe = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            safe.Append(char.IsLetterOrDigit(c) || c is '-' or '_' or '.' or ' ' or '/' or '(' or ')' ? c : '_');
        }

        return safe.ToString();
    }
}
