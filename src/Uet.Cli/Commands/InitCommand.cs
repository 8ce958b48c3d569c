using System.CommandLine;
using Spectre.Console;
using Uet.Config;

namespace Uet.Cli.Commands;

/// <summary><c>uet init</c>: config, state, logs and worktree folders, git exclude entries. Idempotent.</summary>
internal static class InitCommand
{
    public static Command Create(CliOutput output)
    {
        var command = new Command("init", "Prepare this git repository for uet (.uet/config.yaml, .state/, logs/uet/, .worktrees/). Safe to run again.");
        command.SetAction(async (_, cancellationToken) =>
        {
            var steps = await ProjectInitializer.InitAsync(Directory.GetCurrentDirectory(), TimeProvider.System, cancellationToken).ConfigureAwait(false);
            foreach (var step in steps)
            {
                var mark = step.Created ? "[green]created[/]" : "[grey]exists [/]";
                output.Console.MarkupLine($"{mark}  {Markup.Escape(step.Path),-20} {Markup.Escape(step.What)}");
            }

            output.Console.MarkupLine("Next: put workstream files in [bold]workstreams/[/], then run [bold]uet validate[/] and [bold]uet plan[/].");
            return UetApp.Ok;
        });
        return command;
    }
}
