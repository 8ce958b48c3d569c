using System.Globalization;
using System.Text.RegularExpressions;
using Uet.State;

namespace Uet.Execution.Adapters;

/// <summary>
/// <c>aider</c>: the prompt through <c>--message-file</c> (one message, then it exits), <c>--yes-always</c>, and no
/// commits of its own (<c>--no-auto-commits --no-dirty-commits</c>: uet captures the change). The workstream's literal
/// scope paths are passed as the files to edit, as aider expects (globs and folders are left to the prompt). Aider
/// writes nothing of its own into the worktree, where it would count as a change out of scope: its chat and input
/// histories go beside the prompt file, it does not touch <c>.gitignore</c>, and the repository map (which caches into
/// the worktree) is off unless <c>args</c> turns it back on (<c>--map-tokens 1024</c>: later flags win).
/// </summary>
public sealed partial class AiderAdapter : AiToolAdapter
{
    public override string Name => "aider";

    // aider reads its prompt from --message-file.
    protected override bool PromptOnStdin => false;

    protected override IReadOnlyList<string> Arguments(ToolContext context, string? model)
    {
        var beside = Path.ChangeExtension(context.Prompt, null);
        List<string> argv =
        [
            "--message-file", context.Prompt,
            "--yes-always", "--no-auto-commits", "--no-dirty-commits", "--no-gitignore",
            "--no-check-update", "--no-show-release-notes", "--analytics-disable",
            "--no-pretty", "--no-stream", "--no-fancy-input", "--map-tokens", "0",
            "--chat-history-file", beside + ".aider.chat.md", "--input-history-file", beside + ".aider.input.history",
        ];
        if (model is not null)
        {
            argv.AddRange(["--model", model]);
        }

        argv.AddRange(ExtraArgs(context));
        argv.AddRange(ScopeFiles(context));
        return argv;
    }

    /// <summary>Literal file paths of the scope (no globs, no folders), as aider's positional "files to edit".</summary>
    private static IEnumerable<string> ScopeFiles(ToolContext context) =>
        context.Workstream.FilesScope.Concat(context.Workstream.FilesCreate)
            .Where(p => p.IndexOfAny(['*', '?', '[', '{']) < 0 && !p.EndsWith('/') && !Directory.Exists(Path.Combine(context.WorkingDirectory, p)))
            .Distinct(StringComparer.Ordinal);

    // "Tokens: 12k sent, 1.2k received. Cost: $0.05 message, $0.10 session." once per message.
    [GeneratedRegex(@"Tokens: ([\d.,]+)([kKmM]?) sent(?:, [\d.,]+[kKmM]? cache \w+)*, ([\d.,]+)([kKmM]?) received\.(?: Cost: \$([\d.,]+) message, \$([\d.,]+) session\.)?", RegexOptions.CultureInvariant)]
    private static partial Regex TokensLine();

    protected override bool PrintsCost => true;

    protected override ToolUsage? ReadUsage(string output)
    {
        long? sent = null, received = null;
        double? session = null;
        foreach (Match m in TokensLine().Matches(output))
        {
            // A line that only looks like aider's ("1.2.3 sent") is not a reading.
            if (Count(m.Groups[1].Value, m.Groups[2].Value) is not { } lineSent || Count(m.Groups[3].Value, m.Groups[4].Value) is not { } lineReceived)
            {
                continue;
            }

            sent = (sent ?? 0) + lineSent;
            received = (received ?? 0) + lineReceived;
            if (m.Groups[6].Success && Number(m.Groups[6].Value) is { } total)
            {
                // The session figure is the running total: the last one is the cost of the whole run.
                session = total;
            }
        }

        return sent is null ? null : new ToolUsage(session, sent, received);
    }

    private static double? Number(string text) =>
        double.TryParse(text.Replace(",", string.Empty, StringComparison.Ordinal), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : null;

    private static long? Count(string number, string unit) =>
        Number(number) is { } value ? (long)Math.Round(unit.ToUpperInvariant() switch { "K" => value * 1_000, "M" => value * 1_000_000, _ => value }) : null;
}
