using System.Text.Encodings.Web;
using System.Text.Json;

namespace Uet.Reporting;

/// <summary>The report as JSON (format <c>uet.report/1</c>): snake_case keys, milliseconds, UTC times; keys are only ever added.</summary>
public static class JsonReport
{
    public const string FileName = "UET_EXECUTION_REPORT.json";

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Render(ExecutionReport report)
    {
        var node = JsonSerializer.SerializeToNode(report, Options)!.AsObject();
        node.Insert(0, "format", ExecutionReport.Format);
        var times = node["times"]!.AsObject();
        times["speedup_vs_sequential"] = report.Times.SpeedupVsSequential is { } s ? Math.Round(s, 4) : null;
        times["speedup_vs_wave_barrier"] = report.Times.SpeedupVsWaveBarrier is { } b ? Math.Round(b, 4) : null;
        return node.ToJsonString(Options) + "\n";
    }
}
