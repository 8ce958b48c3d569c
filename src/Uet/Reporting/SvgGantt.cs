using System.Globalization;
using System.Net;
using System.Text;

namespace Uet.Reporting;

/// <summary>
/// The workers' lanes as inline SVG, drawn here so the HTML report needs no script and no network: one
/// <c>g.lane</c> per worker, one <c>rect.bar</c> per attempt (class = its state), a time axis below.
/// </summary>
internal static class SvgGantt
{
    private const int LabelWidth = 150;
    private const int ChartWidth = 900;
    private const int LaneHeight = 26;
    private const int AxisHeight = 24;

    public static string Render(ExecutionReport report)
    {
        var span = Math.Max(1, Math.Max(report.WallMs, report.Lanes.SelectMany(l => l.Bars).Select(b => b.EndMs).DefaultIfEmpty(0).Max()));
        var height = (report.Lanes.Count * LaneHeight) + AxisHeight;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"gantt\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{LabelWidth + ChartWidth + 10}\" height=\"{height}\" viewBox=\"0 0 {LabelWidth + ChartWidth + 10} {height}\" role=\"img\" aria-label=\"Workers over time\">\n");
        for (var i = 0; i < report.Lanes.Count; i++)
        {
            var lane = report.Lanes[i];
            var y = i * LaneHeight;
            svg.Append(CultureInfo.InvariantCulture, $"<g class=\"lane\" data-worker=\"{Attr(lane.WorkerId)}\">\n");
            svg.Append(CultureInfo.InvariantCulture, $"<rect class=\"lane-bg\" x=\"{LabelWidth}\" y=\"{y}\" width=\"{ChartWidth}\" height=\"{LaneHeight}\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<text class=\"lane-label\" x=\"4\" y=\"{y + 17}\">{WebUtility.HtmlEncode(lane.WorkerId)}</text>\n");
            foreach (var bar in lane.Bars)
            {
                var x = LabelWidth + (bar.StartMs * (double)ChartWidth / span);
                var width = Math.Max(2, (bar.EndMs - bar.StartMs) * (double)ChartWidth / span);
                svg.Append(CultureInfo.InvariantCulture,
                    $"<rect class=\"bar {Attr(bar.State)}\" data-workstream=\"{Attr(bar.WorkstreamId)}\" data-attempt=\"{bar.Attempt}\" x=\"{x:0.##}\" y=\"{y + 3}\" width=\"{width:0.##}\" height=\"{LaneHeight - 6}\" rx=\"3\">"
                    + $"<title>{WebUtility.HtmlEncode($"{bar.WorkstreamId} attempt {bar.Attempt}: {bar.State}, {ReportText.Duration(bar.EndMs - bar.StartMs)} from {ReportText.Duration(bar.StartMs)}")}</title></rect>\n");
                if (width > (7 * bar.WorkstreamId.Length) + 8)
                {
                    svg.Append(CultureInfo.InvariantCulture, $"<text class=\"bar-label\" x=\"{x + 4:0.##}\" y=\"{y + 17}\">{WebUtility.HtmlEncode(bar.WorkstreamId)}</text>\n");
                }
            }

            svg.Append("</g>\n");
        }

        var axisY = report.Lanes.Count * LaneHeight;
        svg.Append(CultureInfo.InvariantCulture, $"<g class=\"axis\"><line x1=\"{LabelWidth}\" y1=\"{axisY}\" x2=\"{LabelWidth + ChartWidth}\" y2=\"{axisY}\"/>\n");
        for (var tick = 0; tick <= 5; tick++)
        {
            var x = LabelWidth + (tick * ChartWidth / 5);
            var anchor = tick == 0 ? "start" : tick == 5 ? "end" : "middle";
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x}\" y=\"{axisY + 16}\" text-anchor=\"{anchor}\">{WebUtility.HtmlEncode(ReportText.Duration(span * tick / 5))}</text>\n");
        }

        svg.Append("</g>\n</svg>\n");
        return svg.ToString();
    }

    private static string Attr(string text) => WebUtility.HtmlEncode(text);
}
