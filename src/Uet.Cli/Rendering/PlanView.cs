using Spectre.Console;
using Uet.Planning;
using Uet.Workstreams;

namespace Uet.Cli.Rendering;

/// <summary>The plan for people: waves, critical path, overlaps, constraints and the three time estimates.</summary>
internal static class PlanView
{
    private const int IdsShownPerWave = 12;
    private const int OverlapsShown = 50;
    private const int WavesShown = 40;
    private const int ConstraintsShown = 40;

    public static void Render(IAnsiConsole console, Plan plan, WorkstreamSet set)
    {
        console.MarkupLine(
            $"[bold]Plan[/]: {plan.Workstreams.Count} workstreams in {plan.Waves.Count} waves, "
            + $"{plan.Options.Workers} workers, default estimate {DurationText.Format(plan.Options.DefaultEstimate)}");
        if (set.SkipInvalid && set.Skipped.Count > 0)
        {
            console.MarkupLine($"[yellow]{set.Skipped.Count} skipped[/] as invalid (run [bold]uet validate --skip-invalid[/] for the list).");
        }

        console.WriteLine();
        var waves = new Table().Title("Waves (for showing: nothing waits for a whole wave)")
            .AddColumn("Wave").AddColumn(new TableColumn("Count").RightAligned()).AddColumn("Workstreams, critical path first");
        foreach (var wave in plan.Waves.Take(WavesShown))
        {
            var shown = string.Join(", ", wave.Workstreams.Take(IdsShownPerWave));
            if (wave.Workstreams.Count > IdsShownPerWave)
            {
                shown += $", ... and {wave.Workstreams.Count - IdsShownPerWave} more";
            }

            waves.AddRow($"{wave.Number}", $"{wave.Workstreams.Count}", Markup.Escape(shown));
        }

        console.Write(waves);
        if (plan.Waves.Count > WavesShown)
        {
            console.MarkupLine($"[grey]Showing the first {WavesShown} of {plan.Waves.Count} waves; use --format json for all.[/]");
        }

        console.WriteLine();

        console.MarkupLine($"[bold]Critical path[/] ({DurationText.Format(plan.CriticalPath.Duration)}, {plan.CriticalPath.Workstreams.Count} workstreams):");
        var path = plan.CriticalPath.Workstreams;
        var pathText = path.Count <= 24
            ? string.Join(" -> ", path)
            : string.Join(" -> ", path.Take(10)) + $" -> ... {path.Count - 20} more ... -> " + string.Join(" -> ", path.TakeLast(10));
        console.MarkupLine("  " + Markup.Escape(pathText));
        console.WriteLine();

        RenderOverlaps(console, plan);
        RenderConstraints(console, plan);

        var estimates = new Table().Title("Estimated time")
            .AddColumn("Schedule").AddColumn(new TableColumn("Time").RightAligned());
        estimates.AddRow("Sequential (1 worker)", DurationText.Format(plan.Estimates.Sequential));
        estimates.AddRow($"Wave by wave, each wave finished before the next ({plan.Estimates.Workers} workers)", DurationText.Format(plan.Estimates.WaveBarrier));
        estimates.AddRow($"uet dispatch: critical path first, no barriers ({plan.Estimates.Workers} workers)", $"[bold]{DurationText.Format(plan.Estimates.Dispatch)}[/]");
        estimates.AddRow("Lower bound: the critical path", DurationText.Format(plan.CriticalPath.Duration));
        console.Write(estimates);

        var defaulted = plan.Workstreams.Count(w => w.EstimateIsDefault);
        if (defaulted > 0)
        {
            console.MarkupLine($"[grey]{defaulted} of {plan.Workstreams.Count} workstreams have no 'estimate' and count as {DurationText.Format(plan.Options.DefaultEstimate)} (execution.default_estimate_minutes).[/]");
        }
    }

    private static void RenderOverlaps(IAnsiConsole console, Plan plan)
    {
        var all = plan.Waves.SelectMany(w => w.Overlaps.Select(o => (w.Number, Overlap: o))).ToList();
        if (all.Count == 0)
        {
            console.MarkupLine("[green]No scope overlaps[/] between workstreams of the same wave.");
            console.WriteLine();
            return;
        }

        var table = new Table().Title($"Likely merge conflicts: {all.Count} {(all.Count == 1 ? "pair" : "pairs")} of the same wave with overlapping files_scope")
            .AddColumn("Wave").AddColumn("Workstream").AddColumn("Scope").AddColumn("Workstream").AddColumn("Scope");
        foreach (var (wave, o) in all.Take(OverlapsShown))
        {
            table.AddRow($"{wave}", Markup.Escape(o.A), Markup.Escape(o.ScopeA), Markup.Escape(o.B), Markup.Escape(o.ScopeB));
        }

        console.Write(table);
        if (all.Count > OverlapsShown || plan.Waves.Any(w => w.OverlapsTruncated))
        {
            console.MarkupLine($"[grey]Showing {Math.Min(all.Count, OverlapsShown)}; use --format json for the full list.[/]");
        }

        console.WriteLine();
    }

    private static void RenderConstraints(IAnsiConsole console, Plan plan)
    {
        var lines = new List<string>();
        foreach (var wave in plan.Waves)
        {
            lines.AddRange(wave.ConflictGroups.Select(g =>
                $"wave {wave.Number}: conflict_group '{g.Group}' runs one at a time: {string.Join(", ", g.Workstreams)}"));
            lines.AddRange(wave.Exclusive.Select(id => $"wave {wave.Number}: {id} has parallel_ok = false and runs alone"));
        }

        if (lines.Count == 0)
        {
            return;
        }

        console.MarkupLine("[bold]Constraints[/]");
        foreach (var line in lines.Take(ConstraintsShown))
        {
            console.MarkupLine("  " + Markup.Escape(line));
        }

        if (lines.Count > ConstraintsShown)
        {
            console.MarkupLine($"  [grey]... and {lines.Count - ConstraintsShown} more; use --format json for all.[/]");
        }

        console.WriteLine();
    }
}
