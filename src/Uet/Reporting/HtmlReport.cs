using System.Net;
using System.Text;
using static Uet.Reporting.ReportText;

namespace Uet.Reporting;

/// <summary>
/// The report as one HTML file that opens anywhere with no network: inline CSS, the workers' lanes as inline SVG,
/// no script, no font, no image from elsewhere.
/// </summary>
public static class HtmlReport
{
    public const string FileName = "UET_EXECUTION_REPORT.html";

    private const string Style = """
        body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
        h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
        table { border-collapse: collapse; margin: .5em 0; }
        th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
        th { background: #f3f3f3; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        code { font-size: .9em; }
        .state-completed { color: #1a7f37; } .state-failed { color: #cf222e; } .state-blocked { color: #9a6700; }
        .outcome { font-size: 1.2em; font-weight: bold; }
        svg.gantt { border: 1px solid #ccc; background: #fff; }
        svg .lane-bg { fill: #fafafa; stroke: #eee; }
        svg .lane-label, svg .axis text { font: 12px monospace; fill: #333; }
        svg .bar-label { font: 11px monospace; fill: #fff; pointer-events: none; }
        svg .axis line { stroke: #999; }
        svg .bar.completed { fill: #2da44e; } svg .bar.failed { fill: #cf222e; } svg .bar.running { fill: #bf8700; }
        svg .bar.skipped, svg .bar.pending { fill: #8c959f; }
        """;

    public static string Render(ExecutionReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var html = new StringBuilder();
        var t = report.Times;
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n")
            .Append("<title>uet execution report: ").Append(E(report.RunId)).Append("</title>\n<style>\n").Append(Style).Append("</style>\n</head>\n<body>\n");
        html.Append("<h1>uet execution report: ").Append(E(report.RunId)).Append("</h1>\n");
        html.Append("<p class=\"outcome state-").Append(E(report.State)).Append("\">Outcome: ").Append(E(report.State))
            .Append(report.Reason is { } reason ? " (" + E(reason) + ")" : string.Empty).Append("</p>\n");
        Table(html, null, [
            ["started", Time(report.StartedAt)],
            ["ended", Time(report.CompletedAt)],
            ["wall time", Duration(report.WallMs)],
            ["workers", Number(report.Workers)],
            ["tasks", Counts(report.TasksByState)],
            ["patches", Counts(report.PatchesByState)],
            ["worker utilization", Percent(report.OverallUtilization)],
            ["tool spend", report.Spend.Describe()],
            ["report made", Time(report.GeneratedAt)],
        ]);

        html.Append("<h2>Speedup</h2>\n");
        Table(html, ["", "measured", "estimated (plan)"], [
            ["sum of task times (each with its retries and its wait for the merge queue)", Duration(t.WorkMs), Duration(t.EstimatedSequentialMs)],
            [$"wave by wave on {report.Workers} workers", Duration(t.WaveBarrierMs), Duration(t.EstimatedWaveBarrierMs)],
            ["uet dispatch (this run)", Duration(t.WallMs), Duration(t.EstimatedDispatchMs)],
            ["speedup vs sequential", Speedup(t.SpeedupVsSequential), Speedup(t.EstimatedDispatchMs > 0 ? (double)t.EstimatedSequentialMs / t.EstimatedDispatchMs : null)],
            ["speedup vs wave by wave", Speedup(t.SpeedupVsWaveBarrier), Speedup(t.EstimatedDispatchMs > 0 ? (double)t.EstimatedWaveBarrierMs / t.EstimatedDispatchMs : null)],
        ]);

        html.Append("<h2>Critical path</h2>\n");
        var cp = report.CriticalPath;
        Table(html, ["", "workstreams", "estimated", "actual"], [
            ["planned (by estimates)", string.Join(" → ", cp.Estimated.Workstreams), Duration(cp.Estimated.EstimatedMs), Duration(cp.Estimated.ActualMs)],
            ["measured (by durations)", string.Join(" → ", cp.Actual.Workstreams), Duration(cp.Actual.EstimatedMs), Duration(cp.Actual.ActualMs)],
        ]);

        html.Append("<h2>Workers</h2>\n").Append(SvgGantt.Render(report));
        Table(html, ["worker", "attempts", "busy", "utilization"],
            report.Utilization.Select(u => new[] { u.WorkerId, Number(u.Attempts), Duration(u.BusyMs), Percent(u.Share) }).ToList());

        html.Append("<h2>Workstreams</h2>\n<table class=\"workstreams\">\n<tr>");
        foreach (var h in new[] { "workstream", "wave", "state", "attempts", "duration", "estimate", "worker", "patch", "files", "lines", "validators", "reason" })
        {
            html.Append("<th>").Append(h).Append("</th>");
        }

        html.Append("</tr>\n");
        foreach (var w in report.Workstreams)
        {
            html.Append("<tr class=\"workstream\" data-state=\"").Append(E(w.State)).Append("\"><td><code>").Append(E(w.Id)).Append("</code></td>")
                .Append("<td class=\"num\">").Append(w.Wave).Append("</td>")
                .Append("<td class=\"state-").Append(E(w.State)).Append("\">").Append(E(w.State)).Append("</td>")
                .Append("<td class=\"num\">").Append(w.Attempts).Append("</td>")
                .Append("<td class=\"num\">").Append(E(Duration(w.DurationMs))).Append("</td>")
                .Append("<td class=\"num\">").Append(E(Duration(w.EstimateMs))).Append("</td>")
                .Append("<td>").Append(E(w.Worker ?? "-")).Append("</td>")
                .Append("<td>").Append(w.PatchState is null ? "-" : $"{E(w.PatchState)} <code>{E(ShortHash(w.PatchSha256))}</code>").Append("</td>")
                .Append("<td title=\"").Append(E(string.Join("\n", w.Files))).Append("\" class=\"num\">").Append(w.Files.Count).Append("</td>")
                .Append("<td class=\"num\">").Append(E(Lines(w.LinesAdded, w.LinesRemoved))).Append("</td>")
                .Append("<td title=\"").Append(E(w.Validators ?? string.Empty)).Append("\">").Append(E(FirstLine(w.Validators) is { Length: > 0 } v ? v : "-")).Append("</td>")
                .Append("<td title=\"").Append(E(w.Reason ?? string.Empty)).Append("\">").Append(E(FirstLine(w.Reason) is { Length: > 0 } r ? r : "-")).Append("</td></tr>\n");
        }

        html.Append("</table>\n<h2>Waves</h2>\n");
        Table(html, ["wave", "workstreams", "states", "first start", "last end", "longest estimate"],
            report.Waves.Select(w => new[] { Number(w.Number), string.Join(", ", w.Workstreams), Counts(w.States), Time(w.StartedAt), Time(w.CompletedAt), Duration(w.EstimateMs) }).ToList());
        Incidents(html, "Retries", report.Retries);
        Incidents(html, "Quarantines", report.Quarantines);
        Incidents(html, "Rollbacks", report.Rollbacks);
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    private static void Incidents(StringBuilder html, string title, IReadOnlyList<Incident> incidents)
    {
        html.Append("<h2>").Append(title).Append("</h2>\n");
        if (incidents.Count == 0)
        {
            html.Append("<p>None.</p>\n");
            return;
        }

        Table(html, ["workstream", "attempt", "at", "reason"], incidents.Select(i => new[] { i.WorkstreamId, Number(i.Attempt), Time(i.At), FirstLine(i.Reason) }).ToList());
    }

    private static void Table(StringBuilder html, string[]? header, IReadOnlyList<string[]> rows)
    {
        html.Append("<table>\n");
        if (header is not null)
        {
            html.Append("<tr>").Append(string.Concat(header.Select(h => $"<th>{E(h)}</th>"))).Append("</tr>\n");
        }

        foreach (var row in rows)
        {
            html.Append("<tr>").Append(string.Concat(row.Select((c, i) => header is null && i == 0 ? $"<th>{E(c)}</th>" : $"<td>{E(c)}</td>"))).Append("</tr>\n");
        }

        html.Append("</table>\n");
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
