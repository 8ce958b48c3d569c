using System.Globalization;

namespace Uet.Reporting;

/// <summary>Numbers as the reports show them, the same in every format that shows text.</summary>
public static class ReportText
{
    public static string Duration(long? ms)
    {
        if (ms is not { } value)
        {
            return "-";
        }

        var span = TimeSpan.FromMilliseconds(value);
        return value switch
        {
            < 1_000 => $"{value} ms",
            < 60_000 => string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.0} s"),
            < 3_600_000 => string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes}m {span.Seconds:00}s"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h {span.Minutes:00}m"),
        };
    }

    public static string Speedup(double? value) => value is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v:0.00}x") : "-";

    public static string Percent(double? value) => value is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v * 100:0.0} %") : "-";

    public static string Time(DateTimeOffset? value) =>
        value?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-";

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Seconds(long ms) => (ms / 1000.0).ToString("0.###", CultureInfo.InvariantCulture);

    public static string ShortHash(string? sha) => sha is null ? "-" : sha[..Math.Min(12, sha.Length)];

    public static string FirstLine(string? text) => text is null ? string.Empty : text.Split('\n')[0].TrimEnd('\r');

    public static string Lines(int? added, int? removed) => added is null && removed is null ? "-" : $"+{added ?? 0} -{removed ?? 0}";

    /// <summary>What happened to each state, "3 completed, 1 failed".</summary>
    public static string Counts(IReadOnlyList<StateCount> counts) =>
        counts.Count == 0 ? "none" : string.Join(", ", counts.Select(c => $"{c.Count} {c.State}"));

    /// <summary>The one-line summary printed at the end of a run.</summary>
    public static string Summary(ExecutionReport report) =>
        $"run {report.RunId} {report.State} in {Duration(report.WallMs)}: {Counts(report.TasksByState)}; "
        + $"speedup {Speedup(report.Times.SpeedupVsSequential)} vs sequential, {Speedup(report.Times.SpeedupVsWaveBarrier)} vs wave by wave; "
        + $"{report.Retries.Count} retries, {report.Quarantines.Count} quarantined, {report.Rollbacks.Count} rolled back";
}
