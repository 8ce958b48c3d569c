using System.Globalization;
using Uet.Config;
using Uet.State;

namespace Uet.Execution.Adapters;

/// <summary>
/// <c>codex exec</c> (OpenAI Codex CLI): the prompt on stdin (<c>-- -</c>), <c>--json</c> events on stdout (the tokens of each
/// turn are read from them; codex prints no cost), approvals off (<c>approval_policy="never"</c>), and its sandbox
/// confining commands to the worktree (<c>workspace-write</c>: the tool cannot reach the repository's <c>.git</c>, so it
/// cannot commit either). <c>sandbox: danger-full-access</c> turns the sandbox off, for machines where it cannot work
/// (<c>--dangerously-bypass-approvals-and-sandbox</c>). Settings besides the common ones: <c>sandbox</c>, and
/// <c>config</c>, a mapping of codex config overrides passed as <c>-c key=value</c> (a model provider's
/// <c>base_url</c>, for instance; its key is named by <c>env_key</c> and read from the inherited environment).
/// </summary>
public sealed class CodexAdapter : AiToolAdapter
{
    private static readonly string[] Sandboxes = ["read-only", "workspace-write", "danger-full-access"];

    public override string Name => "codex";

    protected override IReadOnlyList<string> ExtraKeys => ["sandbox", "config"];

    protected override string? SettingProblem(string key, ConfigValue value) => key switch
    {
        "sandbox" => value is ConfigScalar { Value: { } mode } && Sandboxes.Contains(mode) ? null : $"expected one of {string.Join(", ", Sandboxes)}",
        "config" => value is not ConfigMapping mapping || !mapping.Entries.Values.All(v => v is ConfigScalar { Value: not null })
            ? "expected a mapping of codex config keys to values, such as model_provider: my-proxy"
            // (env_key names the variable that holds the key, which stays in the environment: no secret.)
            : mapping.Entries.Keys.FirstOrDefault(k => k.Split('.')[^1] is var name && Redactor.IsSecretName(name) && name != "env_key") is { } secret
                ? $"{secret} looks like a secret: it would be on codex's command line (visible to every user in ps) and in the log; set it in the environment uet runs in (e.g. the variable named by env_key) instead"
                : null,
        _ => null,
    };

    protected override IReadOnlyList<string> Arguments(ToolContext context, string? model)
    {
        List<string> argv = ["exec", "--json", "--color", "never", "--skip-git-repo-check", "--ephemeral"];
        var sandbox = Text(context.ToolConfig, "sandbox") ?? "workspace-write";
        if (sandbox == "danger-full-access")
        {
            argv.Add("--dangerously-bypass-approvals-and-sandbox");
        }
        else
        {
            argv.AddRange(["--sandbox", sandbox, "-c", "approval_policy=\"never\""]);
        }

        if (model is not null)
        {
            argv.AddRange(["--model", model]);
        }

        if (context.ToolConfig.Entries.TryGetValue("config", out var config) && config is ConfigMapping overrides)
        {
            foreach (var (key, value) in overrides.Entries)
            {
                argv.AddRange(["-c", $"{key}={Toml(((ConfigScalar)value).Value!)}"]);
            }
        }

        argv.AddRange(ExtraArgs(context));
        // "-": the prompt is read from stdin (after "--", so nothing before can take it for an option's value).
        argv.AddRange(["--", "-"]);
        return argv;
    }

    protected override ToolUsage? ReadUsage(string output)
    {
        ToolUsage? total = null;
        foreach (var json in UsageJson.Objects(output))
        {
            if (UsageJson.String(json, "type") == "turn.completed" && UsageJson.Walk(json, "usage") is { } usage)
            {
                var turn = new ToolUsage(null, UsageJson.Long(usage, "input_tokens"), UsageJson.Long(usage, "output_tokens"));
                total = total is null ? turn : total.Add(turn);
            }
        }

        return total;
    }

    // YAML gave text; codex parses the value as TOML (falling back to a literal string). Numbers and booleans pass as
    // they are; anything else is quoted, so a URL or a name is never half-parsed.
    private static string Toml(string value) =>
        value is "true" or "false" || double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
            ? value
            : "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
