using System.CommandLine;
using Uet.Workstreams;

namespace Uet.Cli.Commands;

/// <summary><c>uet schema</c>: the JSON Schema of the workstream format, for editors and CI checks.</summary>
internal static class SchemaCommand
{
    public static Command Create(CliOutput output)
    {
        var command = new Command("schema", "Print the JSON Schema (draft 2020-12) of the workstream file format.");
        command.SetAction(async (_, cancellationToken) =>
        {
            await output.Out.WriteAsync(WorkstreamSchema.Text.AsMemory(), cancellationToken).ConfigureAwait(false);
            return UetApp.Ok;
        });
        return command;
    }
}
