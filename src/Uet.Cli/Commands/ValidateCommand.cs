using System.CommandLine;
using Uet.Cli.Rendering;
using Uet.Workstreams;

namespace Uet.Cli.Commands;

/// <summary><c>uet validate</c>: every workstream file checked; each problem with file:line:col and why.</summary>
internal static class ValidateCommand
{
    public static Command Create(CliOutput output)
    {
        var common = new CommonOptions();
        var command = new Command("validate", "Check every workstream file: ok, or file:line:col and what is wrong.");
        common.AddTo(command);
        command.Options.Add(common.Json);
        command.SetAction((parse, cancellationToken) =>
        {
            var config = common.LoadConfig(parse);
            var set = WorkstreamLoader.Load(common.Source(parse, config), parse.GetValue(common.SkipInvalid), cancellationToken);
            if (parse.GetValue(common.Json))
            {
                output.WriteJson(stream => DiagnosticsJson.Write(set, stream));
            }
            else
            {
                DiagnosticsView.Render(output, set);
            }

            return Task.FromResult(set.IsUsable ? UetApp.Ok : UetApp.InvalidInput);
        });
        return command;
    }
}
