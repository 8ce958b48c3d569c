using Spectre.Console;
using Uet.Workstreams;

namespace Uet.Cli.Rendering;

/// <summary>
/// Loader findings for people: one line per finding (<c>file:line:col: error CODE: message</c>, never wrapped,
/// so editors and grep can jump to it), then what was skipped and a summary.
/// </summary>
internal static class DiagnosticsView
{
    public static void Render(CliOutput output, WorkstreamSet set, bool errorsOnly = false)
    {
        var color = output.Console.Profile.Capabilities.Ansi;
        void Line(string plain, string markup)
        {
            if (color)
            {
                output.Console.MarkupLine(markup);
            }
            else
            {
                output.Out.WriteLine(plain);
            }
        }

        foreach (var d in set.Diagnostics.Where(d => d.IsError || !errorsOnly))
        {
            var level = d.IsError ? "error" : "warning";
            Line(d.ToString(), $"{Markup.Escape(d.Location.ToString())}: [{(d.IsError ? "red" : "yellow")}]{level}[/] {d.Code}: {Markup.Escape(d.Message)}");
        }

        if (set.SkipInvalid && set.Skipped.Count > 0)
        {
            output.Out.WriteLine();
            Line($"Skipped ({set.Skipped.Count}):", $"[bold]Skipped ({set.Skipped.Count}):[/]");
            foreach (var s in set.Skipped)
            {
                var text = $"  {s.Id ?? "(whole file)"} at {s.Location.File}:{s.Location.Line}: {s.Reason}";
                Line(text, Markup.Escape(text));
            }
        }

        output.Out.WriteLine();
        var summary = $"{set.Workstreams.Count} workstreams loaded from {set.FileCount} files; {set.ErrorCount} errors, {set.WarningCount} warnings.";
        var (verdict, style) = set.ErrorCount == 0
            ? ("ok", "green")
            : set.SkipInvalid ? ($"{set.Skipped.Count} skipped", "yellow") : ("invalid", "red");
        Line($"{verdict}: {summary}", $"[{style}]{verdict}[/]: {summary}");
        if (set.ErrorCount > 0 && !set.SkipInvalid)
        {
            Line("Fix the errors above, or pass --skip-invalid to go on without the invalid workstreams.",
                "Fix the errors above, or pass [bold]--skip-invalid[/] to go on without the invalid workstreams.");
        }
    }
}
