using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using Uet.Execution;
using Uet.Git;
using Uet.State.Sqlite;

namespace Uet.Cli.Commands;

/// <summary><c>uet clean</c>: remove the worktrees crashed runs left behind (never the live run's).</summary>
internal static class CleanCommand
{
    public static Command Create(CliOutput output)
    {
        var state = new StateOptions();
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "Only list what would be removed." };
        var command = new Command("clean", "Remove leftover worktrees of crashed or interrupted runs (never those of the live run).") { dryRun };
        state.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var workspace = await Workspace.FindAsync(Directory.GetCurrentDirectory(), cancellationToken).ConfigureAwait(false);
            var config = state.LoadConfig(parse);
            var dbPath = state.DatabasePath(parse);
            await using var store = File.Exists(dbPath) ? await SqliteStateStore.OpenCurrentAsync(dbPath, TimeProvider.System, cancellationToken).ConfigureAwait(false) : null;
            var report = await Cleaner.CleanAsync(workspace.Root, config.Isolation.WorktreeDir, store, TimeProvider.System, parse.GetValue(dryRun), cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(state.Json))
            {
                output.Out.WriteLine(JsonSerializer.Serialize(new { removed = report.Removed, kept = report.Kept, dry_run = parse.GetValue(dryRun) }));
                return UetApp.Ok;
            }

            var verb = parse.GetValue(dryRun) ? "would remove" : "removed";
            foreach (var path in report.Removed)
            {
                output.Console.MarkupLine($"{verb} {Markup.Escape(path)}");
            }

            foreach (var path in report.Kept)
            {
                output.Console.MarkupLine($"kept {Markup.Escape(path)}");
            }

            output.Console.MarkupLine(report.Removed.Count == 0 ? "nothing to clean" : $"{report.Removed.Count} {(parse.GetValue(dryRun) ? "to remove" : "removed")}");
            return UetApp.Ok;
        });
        return command;
    }
}
