using Spectre.Console;
using Uet.Workstreams;

namespace Uet.Cli.Rendering;

/// <summary>Loader findings for people: one grep-able line per finding, then what was skipped and a summary.</summary>
internal static class DiagnosticsView
{
    public static void Render(IAnsiConsole console, WorkstreamSet set, bool errorsOnly = false)
    {
        foreach (var d in set.Diagnostics.Where(d => d.IsError || !errorsOnly))
        {
            var level = d.IsError ? "[red]error[/]" : "[yellow]warning[/]";
            console.MarkupLine($"{Markup.Escape(d.Location.ToString())}: {level} {d.Code}: {Markup.Escape(d.Message)}");
        }

        if (set.SkipInvalid && set.Skipped.Count > 0)
        {
            console.WriteLine();
            var table = new Table().Title($"Skipped ({set.Skipped.Count})").AddColumn("Workstream").AddColumn("Where").AddColumn("Why");
            foreach (var s in set.Skipped)
            {
                table.AddRow(Markup.Escape(s.Id ?? "(whole file)"), Markup.Escape($"{s.Location.File}:{s.Location.Line}"), Markup.Escape(s.Reason));
            }

            console.Write(table);
        }

        console.WriteLine();
        var verdict = set.ErrorCount == 0
            ? "[green]ok[/]"
            : set.SkipInvalid ? $"[yellow]{set.Skipped.Count} skipped[/]" : "[red]invalid[/]";
        console.MarkupLine(
            $"{verdict}: {set.Workstreams.Count} workstreams loaded from {set.FileCount} files; "
            + $"{set.ErrorCount} errors, {set.WarningCount} warnings.");
        if (set.ErrorCount > 0 && !set.SkipInvalid)
        {
            console.MarkupLine("Fix the errors above, or pass [bold]--skip-invalid[/] to go on without the invalid workstreams.");
        }
    }
}
