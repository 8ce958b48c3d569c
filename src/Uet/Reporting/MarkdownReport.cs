using System.Text;
using static Uet.Reporting.ReportText;

namespace Uet.Reporting;

/// <summary><c>UET_EXECUTION_REPORT.md</c>: the report as Markdown, with the workers' lanes as a Mermaid gantt chart.</summary>
public static class MarkdownReport
{
    public const string FileName = "UET_EXECUTION_REPORT.md";

    public static string Render(ExecutionReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var md = new StringBuilder();
        void Line(string text = "") => md.Append(text).Append('\n');
        void Row(params string[] cells) => Line("| " + string.Join(" | ", cells.Select(Cell)) + " |");
        void Header(params string[] cells)
        {
            Row(cells);
            Line("|" + string.Concat(cells.Select(_ => "---|")));
        }

        var t = report.Times;
        Line($"# uet execution report: {report.RunId}");
        Line();
        Line($"**Outcome: {report.State}**" + (report.Reason is { } reason ? $" ({Cell(reason)})" : string.Empty));
        Line();
        Header("", "");
        Row("started", Time(report.StartedAt));
        Row("ended", Time(report.CompletedAt));
        Row("wall time", Duration(report.WallMs));
        Row("workers", Number(report.Workers));
        Row("tasks", Counts(report.TasksByState));
        Row("patches", Counts(report.PatchesByState));
        Row("worker utilization", Percent(report.OverallUtilization));
        Row("tool spend", report.Spend.Describe());
        Row("report made", Time(report.GeneratedAt));
        Line();

        Line("## Speedup");
        Line();
        Header("", "measured", "estimated (plan)");
        Row("sum of task times (each with its retries and its wait for the merge queue)", Duration(t.WorkMs), Duration(t.EstimatedSequentialMs));
        Row($"wave by wave on {report.Workers} workers", Duration(t.WaveBarrierMs), Duration(t.EstimatedWaveBarrierMs));
        Row("uet dispatch (this run)", Duration(t.WallMs), Duration(t.EstimatedDispatchMs));
        Row("speedup vs sequential", Speedup(t.SpeedupVsSequential), Speedup(t.EstimatedDispatchMs > 0 ? (double)t.EstimatedSequentialMs / t.EstimatedDispatchMs : null));
        Row("speedup vs wave by wave", Speedup(t.SpeedupVsWaveBarrier), Speedup(t.EstimatedDispatchMs > 0 ? (double)t.EstimatedWaveBarrierMs / t.EstimatedDispatchMs : null));
        Line();
        Line("Measured sequential is the sum of the tasks' durations; measured wave by wave replays those durations with a barrier after each wave.");
        Line();

        Line("## Critical path");
        Line();
        Header("", "workstreams", "estimated", "actual");
        Row("planned (by estimates)", string.Join(" → ", report.CriticalPath.Estimated.Workstreams), Duration(report.CriticalPath.Estimated.EstimatedMs), Duration(report.CriticalPath.Estimated.ActualMs));
        Row("measured (by durations)", string.Join(" → ", report.CriticalPath.Actual.Workstreams), Duration(report.CriticalPath.Actual.EstimatedMs), Duration(report.CriticalPath.Actual.ActualMs));
        Line();

        Line("## Workstreams");
        Line();
        Header("workstream", "wave", "state", "attempts", "duration", "estimate", "worker", "patch", "files", "lines", "validators", "reason");
        foreach (var w in report.Workstreams)
        {
            Row(w.Id, Number(w.Wave), w.State, Number(w.Attempts), Duration(w.DurationMs), Duration(w.EstimateMs), w.Worker ?? "-",
                w.PatchState is null ? "-" : $"{w.PatchState} `{ShortHash(w.PatchSha256)}`", Number(w.Files.Count), Lines(w.LinesAdded, w.LinesRemoved),
                FirstLine(w.Validators) is { Length: > 0 } v ? v : "-", FirstLine(w.Reason) is { Length: > 0 } r ? r : "-");
        }

        Line();
        Line("## Waves");
        Line();
        Header("wave", "workstreams", "states", "first start", "last end", "longest estimate");
        foreach (var wave in report.Waves)
        {
            // A wave of thousands would make one line of hundreds of kilobytes: its first ids, and how many more.
            var ids = wave.Workstreams.Count <= 20 ? string.Join(", ", wave.Workstreams) : string.Join(", ", wave.Workstreams.Take(20)) + $", and {Number(wave.Workstreams.Count - 20)} more";
            Row(Number(wave.Number), ids, Counts(wave.States), Time(wave.StartedAt), Time(wave.CompletedAt), Duration(wave.EstimateMs));
        }

        Line();
        Line("## Workers");
        Line();
        Line("```mermaid");
        var chart = MermaidGantt.Render(report);
        md.Append(chart.Text);
        Line("```");
        Line();
        if (chart.Omitted > 0)
        {
            Line($"The chart draws the first {Number(chart.Drawn)} attempts; {Number(chart.Omitted)} more are in the HTML report's chart (a Mermaid diagram cannot be larger).");
            Line();
        }

        Header("worker", "attempts", "busy", "utilization");
        foreach (var u in report.Utilization)
        {
            Row(u.WorkerId, Number(u.Attempts), Duration(u.BusyMs), Percent(u.Share));
        }

        Line();
        Incidents("Retries", report.Retries);
        Incidents("Quarantines", report.Quarantines);
        Incidents("Rollbacks", report.Rollbacks);
        return md.ToString();

        void Incidents(string title, IReadOnlyList<Incident> incidents)
        {
            Line($"## {title}");
            Line();
            if (incidents.Count == 0)
            {
                Line("None.");
                Line();
                return;
            }

            Header("workstream", "attempt", "at", "reason");
            foreach (var i in incidents)
            {
                Row(i.WorkstreamId, Number(i.Attempt), Time(i.At), FirstLine(i.Reason));
            }

            Line();
        }
    }

    // A table cell is one line, and '|' would end it.
    // Reasons hold tool output a model may control: no raw HTML, no links or images (which a viewer would load), no
    // code spans breaking out of the cell; each such character becomes its HTML entity.
    private static string Cell(string text)
    {
        var flat = text.Replace("\r", string.Empty, StringComparison.Ordinal).Replace('\n', ' ');
        var cell = new System.Text.StringBuilder(flat.Length);
        foreach (var c in flat)
        {
            cell.Append(c switch
            {
                '|' => "\\|",
                '<' or '>' or '&' or '[' or ']' or '!' or '`' => $"&#{(int)c};",
                _ => c.ToString(),
            });
        }

        return cell.ToString();
    }
}
