using Uet.Config;
using Uet.State;
using Uet.Workstreams;

namespace Uet.Execution.Adapters;

/// <summary>Everything an adapter may use to build its command lines for one attempt.</summary>
/// <param name="Workstream">The workstream the attempt is for.</param>
/// <param name="RunId">The run.</param>
/// <param name="Attempt">The attempt's number, from 1.</param>
/// <param name="WorkingDirectory">Where the tool runs: the attempt's worktree, or the worker's scratch folder.</param>
/// <param name="PromptFile">The attempt's prompt file; null when the adapter said it reads none (<see cref="ToolAdapter.ReadsPrompt"/>).</param>
/// <param name="ToolConfig">The tool's <c>tool_config</c> section.</param>
public sealed record ToolContext(
    Workstream Workstream,
    string RunId,
    int Attempt,
    string WorkingDirectory,
    string? PromptFile,
    ConfigMapping ToolConfig)
{
    /// <summary>The prompt file, for adapters that read one.</summary>
    public string Prompt => PromptFile ?? throw new InvalidOperationException($"no prompt file was written for {Workstream.Id}");
}

/// <summary>One program to run: argv (never a shell string) and the variables added to the inherited environment.</summary>
/// <param name="Argv">The program and its arguments.</param>
/// <param name="Environment">Variables set on top of uet's own environment, which the tool inherits (API keys included).</param>
/// <param name="Timeout">The tool's own default time limit; a workstream's <c>timeout</c> still wins over it.</param>
/// <param name="Stdin">A file the tool reads as its stdin (the prompt, for tools that take it there); null = empty stdin.</param>
public sealed record ToolInvocation(IReadOnlyList<string> Argv, IReadOnlyDictionary<string, string> Environment, TimeSpan? Timeout = null, string? Stdin = null);

/// <summary>
/// A tool uet can run for a workstream. An adapter only builds invocations; running them (timeout, logs, process
/// tree) is the executor's job, so every tool gets the same guarantees.
/// </summary>
public abstract class ToolAdapter
{
    public abstract string Name { get; }

    /// <summary>The programs to run, in order; the attempt fails at the first that fails.</summary>
    public abstract IReadOnlyList<ToolInvocation> Prepare(ToolContext context);

    /// <summary>Why this workstream cannot run with this adapter, checked before a run starts; null when it can.</summary>
    public virtual string? Problem(Workstream workstream, ConfigMapping toolConfig) => null;

    /// <summary>The program this adapter runs (a name looked up on PATH, or an absolute path); null when it runs the workstream's own commands.</summary>
    public virtual string? Program(ConfigMapping toolConfig) => null;

    /// <summary>The PATH the program is looked up on when it runs (its configured environment's, when set); null = uet's own.</summary>
    public virtual string? SearchPath(ConfigMapping toolConfig) => null;

    /// <summary>
    /// Whether the tool reads the attempt's prompt file (tasks, scope, acceptance, the last error): the file is written,
    /// and <c>UET_PROMPT_FILE</c> set, only then. An AI tool always does; a command only when it can.
    /// </summary>
    public virtual bool ReadsPrompt(Workstream workstream, ConfigMapping toolConfig) => true;

    /// <summary>Whether <see cref="ParseUsage"/> can find anything: the executor reads the attempt's log only for tools that report usage.</summary>
    public virtual bool ReportsUsage => false;

    /// <summary>Whether a cost in dollars comes out of <see cref="ParseUsage"/>, so that <c>max_cost_usd</c> can be enforced.</summary>
    public virtual bool ReportsCost(ConfigMapping toolConfig) => false;

    /// <summary>What the tool spent, read from its output (the attempt's log); null when it printed nothing about it.</summary>
    public virtual ToolUsage? ParseUsage(string output, ConfigMapping toolConfig) => null;

    /// <summary>The variables every tool gets, so scripts can find their prompt and know where they are.</summary>
    protected static Dictionary<string, string> StandardEnvironment(ToolContext context)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["UET_RUN_ID"] = context.RunId,
            ["UET_WORKSTREAM_ID"] = context.Workstream.Id,
            ["UET_ATTEMPT"] = context.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["UET_WORKTREE"] = context.WorkingDirectory,
            ["UET_SCOPE"] = string.Join(',', context.Workstream.FilesScope.Concat(context.Workstream.FilesCreate)),
        };
        if (context.PromptFile is { } prompt)
        {
            environment["UET_PROMPT_FILE"] = prompt;
        }

        return environment;
    }
}
