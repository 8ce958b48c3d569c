using System.Globalization;
using Uet.Config;
using Uet.Workstreams;

namespace Uet.Execution.Adapters;

/// <summary>
/// <c>command</c>: runs the workstream's <c>command</c> argv, or <c>tool_config.command.argv</c> from the config.
/// Each argument may hold placeholders: <c>{prompt_file}</c>, <c>{workstream_id}</c>, <c>{scope}</c> (comma-separated),
/// <c>{worktree}</c>, <c>{attempt}</c>, <c>{run_id}</c>. No shell is involved unless the argv itself says <c>sh -c</c>.
/// A prompt file is written (and <c>UET_PROMPT_FILE</c> set) when the workstream has tasks to tell or the argv names
/// <c>{prompt_file}</c>: a command such as <c>["sed", ...]</c> over thousands of workstreams makes no prompt files.
/// </summary>
public sealed class CommandAdapter : ToolAdapter
{
    public override string Name => "command";

    public override string? Problem(Workstream workstream, ConfigMapping toolConfig) =>
        Argv(workstream, toolConfig) is null
            ? $"{workstream.Id} uses the command tool but has no \"command\" (an argv list such as [\"make\", \"fix\"]) and the config has no tool_config.command.argv"
            : null;

    public override bool ReadsPrompt(Workstream workstream, ConfigMapping toolConfig) =>
        workstream.Tasks.Count > 0 || (Argv(workstream, toolConfig)?.Any(a => a.Contains("{prompt_file}", StringComparison.Ordinal)) ?? false);

    public override IReadOnlyList<ToolInvocation> Prepare(ToolContext context)
    {
        var argv = Argv(context.Workstream, context.ToolConfig)
            ?? throw new InvalidOperationException(Problem(context.Workstream, context.ToolConfig));
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["{prompt_file}"] = context.PromptFile ?? string.Empty,
            ["{workstream_id}"] = context.Workstream.Id,
            ["{scope}"] = string.Join(',', context.Workstream.FilesScope.Concat(context.Workstream.FilesCreate)),
            ["{worktree}"] = context.WorkingDirectory,
            ["{attempt}"] = context.Attempt.ToString(CultureInfo.InvariantCulture),
            ["{run_id}"] = context.RunId,
        };
        var expanded = argv.Select(argument => values.Aggregate(argument, (text, v) => text.Replace(v.Key, v.Value, StringComparison.Ordinal))).ToArray();
        return [new ToolInvocation(expanded, StandardEnvironment(context))];
    }

    private static IReadOnlyList<string>? Argv(Workstream workstream, ConfigMapping toolConfig)
    {
        if (workstream.Command is { Count: > 0 } command)
        {
            return command;
        }

        return toolConfig.Entries.TryGetValue("argv", out var value) && value is ConfigSequence sequence && sequence.Items.Count > 0
            && sequence.Items.All(i => i is ConfigScalar { Value: not null })
            ? sequence.Items.Select(i => ((ConfigScalar)i).Value!).ToArray()
            : null;
    }
}
