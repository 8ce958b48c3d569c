using System.Text.Json;
using Uet.Config;
using Uet.State;

namespace Uet.Execution.Adapters;

/// <summary>
/// <c>gemini</c> (Gemini CLI), headless: the prompt on stdin, <c>--output-format json</c> (its
/// <c>stats</c> hold the tokens per model; it prints no cost), <c>--approval-mode auto_edit</c> (edits applied without
/// asking; <c>approval_mode: yolo</c> allows every tool) and <c>--skip-trust</c> (a fresh worktree is a folder it has
/// never seen). Gemini CLI does not commit by itself. The base URL, if any, comes from the inherited
/// <c>GOOGLE_GEMINI_BASE_URL</c>; the key from <c>GEMINI_API_KEY</c>.
/// </summary>
public sealed class GeminiAdapter : AiToolAdapter
{
    private static readonly string[] Modes = ["auto_edit", "yolo", "default", "plan"];

    public override string Name => "gemini";

    protected override IReadOnlyList<string> ExtraKeys => ["approval_mode"];

    protected override string? SettingProblem(string key, ConfigValue value) =>
        value is ConfigScalar { Value: { } mode } && Modes.Contains(mode) ? null : $"expected one of {string.Join(", ", Modes)}";

    protected override IReadOnlyList<string> Arguments(ToolContext context, string? model)
    {
        // Headless with the prompt on stdin (not a terminal): no -p, whose text gemini would append to it.
        List<string> argv = ["--output-format", "json", "--approval-mode", Text(context.ToolConfig, "approval_mode") ?? "auto_edit", "--skip-trust"];
        if (model is not null)
        {
            argv.AddRange(["--model", model]);
        }

        argv.AddRange(ExtraArgs(context));
        return argv;
    }

    protected override ToolUsage? ReadUsage(string output)
    {
        ToolUsage? total = null;
        foreach (var json in UsageJson.Objects(output))
        {
            if (UsageJson.Walk(json, "stats", "models") is not { ValueKind: JsonValueKind.Object } models)
            {
                continue;
            }

            long? input = null, outputTokens = null;
            foreach (var m in models.EnumerateObject())
            {
                input = UsageJson.Sum(input, UsageJson.Long(m.Value, "tokens", "prompt"));
                outputTokens = UsageJson.Sum(outputTokens, UsageJson.Sum(UsageJson.Long(m.Value, "tokens", "candidates"), UsageJson.Long(m.Value, "tokens", "thoughts")));
            }

            var run = new ToolUsage(null, input, outputTokens);
            total = total is null ? run : total.Add(run);
        }

        return total;
    }
}
