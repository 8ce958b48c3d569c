namespace Uet.Reporting;

public enum ReportFormat
{
    Markdown,
    Json,
    Junit,
    Html,
}

/// <summary>One place that maps a format to its renderer and its file name.</summary>
public static class ReportRenderer
{
    public static string Render(ExecutionReport report, ReportFormat format) => format switch
    {
        ReportFormat.Json => JsonReport.Render(report),
        ReportFormat.Junit => JunitReport.Render(report),
        ReportFormat.Html => HtmlReport.Render(report),
        _ => MarkdownReport.Render(report),
    };

    public static string FileName(ReportFormat format) => format switch
    {
        ReportFormat.Json => JsonReport.FileName,
        ReportFormat.Junit => JunitReport.FileName,
        ReportFormat.Html => HtmlReport.FileName,
        _ => MarkdownReport.FileName,
    };

    /// <summary>Where a run's reports go by default: <c>.uet/reports/&lt;run&gt;/</c>, excluded from git by <c>uet init</c>.</summary>
    public static string Folder(string repository, string runId) => Path.Combine(repository, ".uet", "reports", runId);
}

/// <summary>Writes a run's report files.</summary>
public static class ReportFiles
{
    /// <summary>Writes each format into <paramref name="folder"/> under its own name; returns the paths in the order given.</summary>
    public static async Task<IReadOnlyList<string>> WriteAsync(ExecutionReport report, string folder, IReadOnlyList<ReportFormat> formats, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var paths = new List<string>(formats.Count);
        foreach (var format in formats)
        {
            var path = Path.Combine(folder, ReportRenderer.FileName(format));
            await WriteFileAsync(path, ReportRenderer.Render(report, format), cancellationToken).ConfigureAwait(false);
            paths.Add(path);
        }

        return paths;
    }

    /// <summary>Writes through a temporary file and a rename, so a reader never sees half a report.</summary>
    public static async Task WriteFileAsync(string path, string text, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temporary = full + ".tmp";
        await File.WriteAllTextAsync(temporary, text, new System.Text.UTF8Encoding(false), cancellationToken).ConfigureAwait(false);
        File.Move(temporary, full, overwrite: true);
    }
}
