using System.Globalization;
using Uet.Config;
using Uet.State;
using Uet.Workstreams;

namespace Uet.Execution.Adapters;

/// <summary>
/// An AI coding CLI run non-interactively in the worktree: the prompt in, edits applied without asking, no commits of
/// its own, its cost and tokens read back from its output. Settings (<c>execution.tool_config.&lt;tool&gt;</c>, all
/// optional): <c>program</c> (a name on PATH or an absolute path), <c>model</c>, <c>timeout</c> (the tool's default
/// time limit; a workstream's own <c>timeout</c> wins), <c>args</c> (extra arguments, after
/// uet's, so they win where the tool lets a later flag override an earlier one), <c>env</c> (extra variables; never API
/// keys: those stay in the environment uet runs in and reach the tool by inheritance only, so they appear in no config,
/// argv or log), and <c>usd_per_1m_input_tokens</c>/<c>usd_per_1m_output_tokens</c> to price the tokens of a tool that
/// prints no cost.
/// </summary>
public abstract class AiToolAdapter : ToolAdapter
{
    private static readonly string[] CommonKeys = ["program", "model", "args", "env", "timeout", "usd_per_1m_input_tokens", "usd_per_1m_output_tokens"];

    /// <summary>Keys of <c>tool_config.&lt;tool&gt;</c> this adapter reads besides the common ones.</summary>
    protected virtual IReadOnlyList<string> ExtraKeys => [];

    public override string? Program(ConfigMapping toolConfig) => Text(toolConfig, "program") ?? Name;

    // The executor looks the program up on the PATH the tool runs with: a PATH set under tool_config.<tool>.env wins.
    public override string? SearchPath(ConfigMapping toolConfig) =>
        toolConfig.Entries.TryGetValue("env", out var env) && env is ConfigMapping variables && variables.Entries.TryGetValue("PATH", out var path) && path is ConfigScalar { Value: { } value }
            ? value
            : null;

    public override string? Problem(Workstream workstream, ConfigMapping toolConfig)
    {
        var where = $"execution.tool_config.{Name}";
        foreach (var (key, value) in toolConfig.Entries)
        {
            if (!CommonKeys.Contains(key) && !ExtraKeys.Contains(key))
            {
                return $"{where}.{key}: unknown setting of the {Name} adapter (known: {string.Join(", ", CommonKeys.Concat(ExtraKeys))})";
            }

            var problem = key switch
            {
                "args" => value is not ConfigSequence s || !s.Items.All(i => i is ConfigScalar { Value: not null })
                    ? "expected a list of strings"
                    : s.Items.Select(i => ((ConfigScalar)i).Value!).FirstOrDefault(a => a.StartsWith('-') && Redactor.IsSecretName(a.TrimStart('-').Split('=')[0].Replace('-', '_'))) is { } flag
                        ? $"{flag.Split('=')[0]} passes a secret on the command line (visible to every user in ps, and in the log); give the tool its key through the environment uet runs in"
                        : null,
                "env" => EnvProblem(value),
                "usd_per_1m_input_tokens" or "usd_per_1m_output_tokens" => Number(value) is >= 0 ? null : "expected a number, at least 0",
                "program" or "model" => value is ConfigScalar { Value: { Length: > 0 } } ? null : "expected a non-empty string",
                "timeout" => Timeout(toolConfig) is { } limit && limit > TimeSpan.Zero ? null : "expected a duration such as 45m, 1h30m or 900 (seconds)",
                _ => SettingProblem(key, value),
            };
            if (problem is not null)
            {
                return $"{where}.{key}: {problem}";
            }
        }

        var program = Program(toolConfig)!;
        if (ProgramLocator.Find(program, SearchPath(toolConfig)) is null)
        {
            return program.Contains('/', StringComparison.Ordinal)
                ? $"{workstream.Id} uses {Name}, but {where}.program '{program}' is not an executable file given by its absolute path"
                : $"{workstream.Id} uses {Name}, but '{program}' is not installed (not found on PATH); install it or set {where}.program";
        }

        return null;
    }

    public sealed override IReadOnlyList<ToolInvocation> Prepare(ToolContext context)
    {
        var environment = StandardEnvironment(context);
        // Plain output for the log: no colours, no spinners, no pager, no terminal UI.
        environment["NO_COLOR"] = "1";
        environment["TERM"] = "dumb";
        environment["CI"] = "1";
        foreach (var (name, value) in ToolEnvironment(context))
        {
            environment[name] = value;
        }

        if (context.ToolConfig.Entries.TryGetValue("env", out var env) && env is ConfigMapping variables)
        {
            foreach (var (name, value) in variables.Entries)
            {
                environment[name] = ((ConfigScalar)value).Value ?? string.Empty;
            }
        }

        List<string> argv = [Program(context.ToolConfig)!, .. Arguments(context, Text(context.ToolConfig, "model"))];
        return [new ToolInvocation(argv, environment, Timeout(context.ToolConfig), PromptOnStdin ? context.Prompt : null)];
    }

    /// <summary>
    /// Whether the tool reads the prompt on its stdin (the prompt file): no length limit (one argument is at most
    /// 128 KiB on Linux), and the prompt is not on a command line every user can read in <c>ps</c>, nor in the log.
    /// </summary>
    protected virtual bool PromptOnStdin => true;

    /// <summary>The arguments after the program: uet's non-interactive flags, the model, the prompt, then <c>args</c>.</summary>
    protected abstract IReadOnlyList<string> Arguments(ToolContext context, string? model);

    /// <summary>Variables this tool needs to run unattended (never secrets).</summary>
    protected virtual IReadOnlyDictionary<string, string> ToolEnvironment(ToolContext context) => new Dictionary<string, string>();

    /// <summary>Why the value of one of <see cref="ExtraKeys"/> is wrong; null when it is fine.</summary>
    protected virtual string? SettingProblem(string key, ConfigValue value) => null;

    public override bool ReportsUsage => true;

    /// <summary>Whether the tool prints its cost itself (otherwise only priced tokens give one).</summary>
    protected virtual bool PrintsCost => false;

    public sealed override bool ReportsCost(ConfigMapping toolConfig) =>
        PrintsCost || toolConfig.Entries.ContainsKey("usd_per_1m_input_tokens") || toolConfig.Entries.ContainsKey("usd_per_1m_output_tokens");

    /// <summary>What the tool printed about its spending, priced from tokens when it printed no cost and prices are configured.</summary>
    public sealed override ToolUsage? ParseUsage(string output, ConfigMapping toolConfig)
    {
        var usage = ReadUsage(output);
        if (usage is null || usage.CostUsd is not null)
        {
            return usage;
        }

        var input = toolConfig.Entries.TryGetValue("usd_per_1m_input_tokens", out var i) ? Number(i) : null;
        var outputPrice = toolConfig.Entries.TryGetValue("usd_per_1m_output_tokens", out var o) ? Number(o) : null;
        return input is null && outputPrice is null
            ? usage
            : usage with { CostUsd = (((usage.InputTokens ?? 0) * (input ?? 0)) + ((usage.OutputTokens ?? 0) * (outputPrice ?? 0))) / 1_000_000 };
    }

    /// <summary>Cost and tokens as the tool printed them in its output; null when it printed none.</summary>
    protected abstract ToolUsage? ReadUsage(string output);

    /// <summary>The extra arguments of <c>tool_config.&lt;tool&gt;.args</c>.</summary>
    protected static IEnumerable<string> ExtraArgs(ToolContext context) =>
        context.ToolConfig.Entries.TryGetValue("args", out var value) && value is ConfigSequence sequence
            ? sequence.Items.Select(i => ((ConfigScalar)i).Value!)
            : [];

    protected static string? Text(ConfigMapping toolConfig, string key) =>
        toolConfig.Entries.TryGetValue(key, out var value) && value is ConfigScalar { Value: { Length: > 0 } text } ? text : null;

    private static TimeSpan? Timeout(ConfigMapping toolConfig) =>
        Text(toolConfig, "timeout") is { } text && Uet.Workstreams.DurationText.TryParse(text, out var limit) ? limit : null;

    private static double? Number(ConfigValue value) =>
        value is ConfigScalar { Value: { } text } && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : null;

    private static string? EnvProblem(ConfigValue value)
    {
        if (value is not ConfigMapping mapping || !mapping.Entries.Values.All(v => v is ConfigScalar))
        {
            return "expected a mapping of variable names to values";
        }

        var secret = mapping.Entries.Keys.FirstOrDefault(Redactor.IsSecretName);
        return secret is null
            ? null
            : $"{secret} looks like a secret; uet takes no secrets from its config: set it in the environment uet runs in, and the tool inherits it";
    }
}
