using Uet.Config;
using Uet.Workstreams;

namespace Uet.Execution.Adapters;

/// <summary>
/// Which adapter runs a workstream: its <c>tool</c>, else the first <c>adapters.routing</c> rule whose pattern matches
/// its id or one of its scope paths, else <c>execution.default_tool</c>; and whether that adapter is enabled and can run it.
/// </summary>
public sealed class AdapterRegistry(UetConfig config)
{
    /// <summary>Every adapter of this version of uet, in the order <c>uet doctor</c> lists them.</summary>
    public static IReadOnlyList<ToolAdapter> All { get; } =
        [new AiderAdapter(), new CodexAdapter(), new ClaudeAdapter(), new GeminiAdapter(), new CommandAdapter(), new TestsAdapter()];

    private static readonly Dictionary<string, ToolAdapter> Available = All.ToDictionary(a => a.Name, StringComparer.Ordinal);

    public string ToolOf(Workstream workstream) =>
        workstream.Tool
        ?? config.Adapters.Routing.FirstOrDefault(r => Routes(r.Pattern, workstream))?.Tool
        ?? config.Execution.DefaultTool;

    /// <summary>
    /// A rule's pattern names workstream ids (<c>ws-docs-*</c>) or files: a path glob (<c>src/api/**</c>) matches a
    /// workstream with a scope path under it, and a pattern without a slash (<c>*.py</c>) one with a scope path whose
    /// file name matches, in any folder, as in .gitignore.
    /// </summary>
    public static bool Routes(string pattern, Workstream workstream)
    {
        if (Glob.IsMatch(pattern, workstream.Id))
        {
            return true;
        }

        var paths = workstream.FilesScope.Concat(workstream.FilesCreate);
        return pattern.Contains('/', StringComparison.Ordinal)
            ? paths.Any(p => ScopeMatch.Covers(pattern, p))
            : paths.Any(p => Glob.IsMatch(pattern, p.TrimEnd('/').Split('/')[^1]));
    }

    public ToolAdapter? Find(string tool) => Available.GetValueOrDefault(tool);

    public ConfigMapping ToolConfig(string tool) =>
        config.Execution.ToolConfig.TryGetValue(tool, out var mapping) ? mapping : ConfigMapping.Empty;

    public ToolAdapter Resolve(Workstream workstream) => Available[ToolOf(workstream)];

    /// <summary>Every reason the workstreams cannot run, before anything starts: unknown, disabled or unusable tools.</summary>
    public IReadOnlyList<string> Problems(IEnumerable<Workstream> workstreams) =>
        workstreams.Select(ws => Problem(ws) is { } problem ? $"{problem} ({ws.Location})" : null).OfType<string>().ToArray();

    /// <summary>Why this workstream cannot run (its tool is unknown, disabled, not installed or misconfigured); null when it can.</summary>
    public string? Problem(Workstream workstream)
    {
        var tool = ToolOf(workstream);
        if (!Available.TryGetValue(tool, out var adapter))
        {
            return $"{workstream.Id}: tool '{tool}' cannot run in this version of uet (available: {string.Join(", ", Available.Keys)})";
        }

        if (!config.Adapters.Enabled.Contains(tool))
        {
            return $"{workstream.Id}: tool '{tool}' is not in adapters.enabled of the config";
        }

        // A limit that cannot be read would be no limit at all: refuse it rather than run without it.
        if (workstream.Attributes.TryGetValue("max_cost_usd", out var limit) && limit is not null && ToolSpend.Limit(workstream) is not >= 0)
        {
            return $"{workstream.Id}: max_cost_usd must be a number of US dollars, at least 0 (such as 2.5), got {limit.ToJsonString()}";
        }

        if (limit is not null && !adapter.ReportsCost(ToolConfig(tool)))
        {
            return adapter.ReportsUsage
                ? $"{workstream.Id}: its max_cost_usd cannot be enforced: {tool} prints tokens but no cost; set execution.tool_config.{tool}.usd_per_1m_input_tokens and usd_per_1m_output_tokens to price them"
                : $"{workstream.Id}: its max_cost_usd cannot be enforced: the {tool} tool reports no cost";
        }

        return adapter.Problem(workstream, ToolConfig(tool));
    }
}
