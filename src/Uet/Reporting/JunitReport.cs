using System.Xml.Linq;
using static Uet.Reporting.ReportText;

namespace Uet.Reporting;

/// <summary>
/// The report as JUnit XML, one test case per workstream, so CI systems show a run as they show tests: completed
/// passes, failed is a failure (with its reason), blocked and never-run are skipped.
/// </summary>
public static class JunitReport
{
    public const string FileName = "UET_EXECUTION_REPORT.junit.xml";

    public static string Render(ExecutionReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var failures = report.Workstreams.Count(w => w.State == "failed");
        var skipped = report.Workstreams.Count(w => w.State is not ("failed" or "completed"));
        var suite = new XElement("testsuite",
            new XAttribute("name", $"uet run {report.RunId}"),
            new XAttribute("tests", report.Workstreams.Count),
            new XAttribute("failures", failures),
            new XAttribute("errors", 0),
            new XAttribute("skipped", skipped),
            new XAttribute("time", Seconds(report.WallMs)),
            new XAttribute("timestamp", (report.StartedAt ?? report.CreatedAt).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture)),
            new XElement("properties",
                Property("run_id", report.RunId),
                Property("state", report.State),
                Property("workers", Number(report.Workers)),
                Property("speedup_vs_sequential", Speedup(report.Times.SpeedupVsSequential)),
                Property("speedup_vs_wave_barrier", Speedup(report.Times.SpeedupVsWaveBarrier))),
            report.Workstreams.Select(TestCase));
        var document = new XDocument(new XDeclaration("1.0", "UTF-8", null),
            new XElement("testsuites",
                new XAttribute("name", "uet"),
                new XAttribute("tests", report.Workstreams.Count),
                new XAttribute("failures", failures),
                new XAttribute("errors", 0),
                new XAttribute("skipped", skipped),
                new XAttribute("time", Seconds(report.WallMs)),
                suite));
        using var writer = new Utf8StringWriter();
        document.Save(writer);
        return writer + "\n";

        XElement TestCase(WorkstreamRow w)
        {
            var element = new XElement("testcase",
                new XAttribute("classname", $"uet.{report.RunId}.wave{w.Wave}"),
                new XAttribute("name", w.Id),
                new XAttribute("time", Seconds(w.DurationMs ?? 0)));
            switch (w.State)
            {
                case "completed":
                    break;
                case "failed":
                    element.Add(new XElement("failure",
                        new XAttribute("message", Clean(FirstLine(w.Reason) is { Length: > 0 } first ? first : "failed")),
                        new XAttribute("type", w.PatchState is "quarantined" or "rolled_back" ? w.PatchState : "failed"),
                        Clean(w.Reason ?? string.Empty)));
                    break;
                default:
                    element.Add(new XElement("skipped", new XAttribute("message", Clean(FirstLine(w.Reason) is { Length: > 0 } why ? why : w.State))));
                    break;
            }

            element.Add(new XElement("system-out", Clean(
                $"state: {w.State}\nattempts: {w.Attempts}\nworker: {w.Worker ?? "-"}\npatch: {w.PatchState ?? "-"} {w.PatchSha256 ?? string.Empty}\n"
                + $"files: {string.Join(", ", w.Files)}\nlines: {Lines(w.LinesAdded, w.LinesRemoved)}\nvalidators: {FirstLine(w.Validators)}\ncommit: {w.Commit ?? "-"}\n")));
            return element;
        }
    }

    // Tool output may hold control characters (colour codes) that XML 1.0 cannot carry at all.
    private static string Clean(string text) => string.Concat(text.Where(c => c is '\n' or '\t' or '\r' || (c >= ' ' && c != '\uFFFE' && c != '\uFFFF')));

    private static XElement Property(string name, string value) => new("property", new XAttribute("name", name), new XAttribute("value", value));

    private sealed class Utf8StringWriter : StringWriter
    {
        public Utf8StringWriter()
            : base(System.Globalization.CultureInfo.InvariantCulture)
        {
        }

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
    }
}
