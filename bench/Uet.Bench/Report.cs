using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Uet.Bench;

/// <summary>Prints the figures as a table and writes them as JSON. Times are medians of the measured runs.</summary>
internal static class Report
{
    private const double MiB = 1024.0 * 1024.0;
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string Machine() =>
        $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture}, " +
        $".NET {Environment.Version}, GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}";

    public static void PrintTable(TextWriter output, IReadOnlyList<SizeResult> results)
    {
        var baseline = results.MinBy(r => r.Size)!;
        output.WriteLine(F($"{"size",8} {"waves",6} {"warmup",8} {"find",7} {"load",8} {"plan",8} {"total",8} {"us/ws",6} {"x base",6} {"alloc",7} {"heap",6} {"peakWS",7} {"gc0/1/2",9} {"gcPause",7}"));
        output.WriteLine(F($"{"",8} {"",6} {"ms",8} {"ms",7} {"ms",8} {"ms",8} {"ms",8} {"",6} {"",6} {"MiB",7} {"MiB",6} {"MiB",7} {"",9} {"ms",7}"));
        foreach (var r in results)
        {
            var t = r.Typical;
            output.WriteLine(F($"{r.Size,8} {r.Waves,6} {r.Warmup.TotalMs,8:F0} {t.FindMs,7:F0} {t.LoadMs,8:F0} {t.PlanMs,8:F0} {t.TotalMs,8:F0} {PerWorkstreamUs(r),6:F1} {Ratio(r, baseline),6:F2} {t.AllocatedBytes / MiB,7:F0} {t.HeapBytesAfter / MiB,6:F0} {r.PeakWorkingSetBytes / MiB,7:F0} {$"{t.Gen0}/{t.Gen1}/{t.Gen2}",9} {t.GcPauseMs,7:F0}"));
        }

        output.WriteLine();
        output.WriteLine(F($"us/ws = total time per workstream; x base = us/ws against the {baseline.Size}-workstream run of this process (1.00 = linear)."));
        output.WriteLine("find = directory listing alone (also part of load); peakWS = process high-water mark so far (use --only-size for a per-size figure).");
    }

    public static void PrintDetails(TextWriter output, SizeResult r)
    {
        output.WriteLine(F($"  n={r.Size}: {r.Files} files, {r.Workstreams} workstreams, {r.Errors} errors, {r.Warnings} warnings, {r.Waves} waves, critical path {r.CriticalPathLength}, {r.Overlaps} overlaps listed"));
        output.WriteLine(F($"    warm-up: load {r.Warmup.LoadMs:F0} ms, plan {r.Warmup.PlanMs:F0} ms; runs (total ms): {string.Join(", ", r.Runs.Select(x => x.TotalMs.ToString("F0", CultureInfo.InvariantCulture)))}"));
    }

    public static void WriteJson(string path, BenchOptions options, IReadOnlyList<SizeResult> results)
    {
        var baseline = results.MinBy(r => r.Size)!;
        var document = new
        {
            Machine = Machine(),
            ProcessorCount = Environment.ProcessorCount,
            Os = RuntimeInformation.OSDescription,
            Dotnet = Environment.Version.ToString(),
            options.Seed,
            options.Window,
            options.Repeat,
            options.Workers,
            BaselineSize = baseline.Size,
            Sizes = results.Select(r => new
            {
                r.Size,
                r.Files,
                r.Workstreams,
                r.Errors,
                r.Warnings,
                r.Waves,
                r.CriticalPathLength,
                r.Overlaps,
                LoadMs = r.Typical.LoadMs,
                PlanMs = r.Typical.PlanMs,
                TotalMs = r.Typical.TotalMs,
                FindMs = r.Typical.FindMs,
                PerWorkstreamUs = PerWorkstreamUs(r),
                RatioToBaseline = Ratio(r, baseline),
                AllocatedBytes = r.Typical.AllocatedBytes,
                HeapBytesAfter = r.Typical.HeapBytesAfter,
                r.PeakWorkingSetBytes,
                Warmup = r.Warmup,
                Runs = r.Runs,
            }),
        };
        File.WriteAllText(path, JsonSerializer.Serialize(document, JsonOptions));
    }

    private static double PerWorkstreamUs(SizeResult r) => r.Typical.TotalMs * 1000.0 / Math.Max(1, r.Size);

    private static double Ratio(SizeResult r, SizeResult baseline) => PerWorkstreamUs(r) / PerWorkstreamUs(baseline);

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
