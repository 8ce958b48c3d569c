using Uet.Config;
using Uet.State;

namespace Uet.Execution.Adapters;

/// <summary>
/// <c>claude -p</c> (Claude Code): the prompt on stdin, <c>--output-format json</c> (the final
/// result carries <c>total_cost_usd</c> and the token usage), and <c>--permission-mode acceptEdits</c>: file edits are
/// applied without asking, anything else it would have to ask for (shell commands) is refused, since nobody is there
/// to answer. <c>permission_mode: bypassPermissions</c> lets it run commands too. Claude Code does not commit by
/// itself. The scope is in the prompt; the base URL, if any, comes from the inherited <c>ANTHROPIC_BASE_URL</c>.
/// </summary>
public sealed class ClaudeAdapter : AiToolAdapter
{
    private static readonly string[] Modes = ["acceptEdits", "auto", "bypassPermissions", "default", "dontAsk", "plan"];

    public override string Name => "claude";

    protected override IReadOnlyList<string> ExtraKeys => ["permission_mode"];

    protected override string? SettingProblem(string key, ConfigValue value) =>
        value is ConfigScalar { Value: { } mode } && Modes.Contains(mode) ? null : $"expected one of {string.Join(", ", Modes)}";

    protected override IReadOnlyList<string> Arguments(ToolContext context, string? model)
    {
        // -p (--print) with no prompt argument: the prompt is read from stdin.
        List<string> argv = ["-p", "--output-format", "json", "--permission-mode", Text(context.ToolConfig, "permission_mode") ?? "acceptEdits"];
        if (model is not null)
        {
            argv.AddRange(["--model", model]);
        }

        argv.AddRange(ExtraArgs(context));
        return argv;
    }

    // An update or a survey in the middle of a batch run helps nobody.
    protected override IReadOnlyDictionary<string, string> ToolEnvironment(ToolContext context) => new Dictionary<string, string>
    {
        ["DISABLE_AUTOUPDATER"] = "1",
        ["CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY"] = "1",
    };

    protected override bool PrintsCost => true;

    protected override ToolUsage? ReadUsage(string output)
    {
        ToolUsage? total = null;
        foreach (var json in UsageJson.Objects(output))
        {
            if (UsageJson.String(json, "type") != "result")
            {
                continue;
            }

            // modelUsage covers every model the session used (a small one titles the session); usage only the main one.
            long? input = null, outputTokens = null;
            if (UsageJson.Walk(json, "modelUsage") is { ValueKind: System.Text.Json.JsonValueKind.Object } models)
            {
                foreach (var m in models.EnumerateObject())
                {
                    input = UsageJson.Sum(input, UsageJson.Sum(UsageJson.Long(m.Value, "inputTokens"), UsageJson.Sum(UsageJson.Long(m.Value, "cacheReadInputTokens"), UsageJson.Long(m.Value, "cacheCreationInputTokens"))));
                    outputTokens = UsageJson.Sum(outputTokens, UsageJson.Long(m.Value, "outputTokens"));
                }
            }
            else if (UsageJson.Walk(json, "usage") is { } usage)
            {
                input = UsageJson.Sum(UsageJson.Long(usage, "input_tokens"), UsageJson.Sum(UsageJson.Long(usage, "cache_read_input_tokens"), UsageJson.Long(usage, "cache_creation_input_tokens")));
                outputTokens = UsageJson.Long(usage, "output_tokens");
            }

            var result = new ToolUsage(UsageJson.Double(json, "total_cost_usd"), input, outputTokens);
            total = total is null ? result : total.Add(result);
        }

        return total;
    }
}
