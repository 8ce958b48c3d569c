using System.Text;

namespace Uet.Reporting;

/// <summary>
/// The workers' lanes as a Mermaid gantt chart: one section per worker, one bar per attempt. Times are milliseconds
/// since the run started (dateFormat x), so the axis reads as elapsed time.
/// </summary>
internal static class MermaidGantt
{
    /// <summary>
    /// Bars drawn at most, and characters: Mermaid refuses a diagram of more than 50,000 characters (its maxTextSize,
    /// also on GitHub). A long run's chart shows its first attempts, and the HTML report draws them all.
    /// </summary>
    public const int MaxBars = 500;

    private const int MaxChars = 40_000;
    private const int MaxLabel = 60;

    /// <summary>The chart, how many attempts it draws, and how many it leaves out.</summary>
    public static (string Text, int Drawn, int Omitted) Render(ExecutionReport report)
    {
        var drawn = Drawn(report);
        var text = new StringBuilder();
        text.Append("gantt\n");
        text.Append("    title Workers of run ").Append(Label(report.RunId)).Append('\n');
        text.Append("    dateFormat x\n");
        text.Append("    axisFormat ").Append(report.WallMs < 3_600_000 ? "%M:%S" : "%H:%M").Append('\n');
        var n = 0;
        foreach (var lane in report.Lanes.Where(l => l.Bars.Any(drawn.Contains)))
        {
            text.Append("    section ").Append(Label(lane.WorkerId)).Append('\n');
            foreach (var bar in lane.Bars.Where(drawn.Contains))
            {
                text.Append(Line(bar, ++n));
            }
        }

        return (text.ToString(), drawn.Count, report.Lanes.Sum(l => l.Bars.Count) - drawn.Count);
    }

    // The first attempts by start, as many as fit: the chart is a window on the run's beginning.
    private static HashSet<GanttBar> Drawn(ExecutionReport report)
    {
        var drawn = new HashSet<GanttBar>();
        var sections = new HashSet<string>(StringComparer.Ordinal);
        var chars = 200; // the title and formats
        foreach (var (bar, worker) in report.Lanes.SelectMany(l => l.Bars.Select(b => (Bar: b, l.WorkerId))).OrderBy(x => x.Bar.StartMs))
        {
            chars += Line(bar, drawn.Count + 1).Length + (sections.Add(worker) ? worker.Length + 13 : 0);
            if (drawn.Count == MaxBars || chars > MaxChars)
            {
                break;
            }

            drawn.Add(bar);
        }

        return drawn;
    }

    private static string Line(GanttBar bar, int n)
    {
        var tag = bar.State switch
        {
            "completed" => "done, ",
            "failed" => "crit, ",
            _ => "active, ",
        };
        // A zero-length bar is not drawn: every attempt gets at least one millisecond.
        return "    " + Label($"{Short(bar.WorkstreamId)} ({bar.Attempt})") + " :" + tag + "b" + ReportText.Number(n) + ", "
            + ReportText.Number(bar.StartMs) + ", " + ReportText.Number(Math.Max(bar.EndMs, bar.StartMs + 1)) + "\n";
    }

    private static string Short(string id) => id.Length <= MaxLabel ? id : id[..(MaxLabel - 1)] + "~";

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
