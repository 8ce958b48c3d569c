using System.Text.RegularExpressions;
using Uet.Config;
using Uet.Workstreams;

namespace Uet.Execution.Adapters;

/// <summary>
/// Which adapter runs a workstream: its <c>tool</c>, else the first <c>adapters.routing</c> rule whose pattern matches
/// its id, else <c>execution.default_tool</c>; and whether that adapter is enabled and can run it.
/// </summary>
public sealed class AdapterRegistry(UetConfig config)
{
    private static readonly Dictionary<string, ToolAdapter> Available = new ToolAdapter[] { new CommandAdapter(), new TestsAdapter() }
        .ToDictionary(a => a.Name, StringComparer.Ordinal);

    public string ToolOf(Workstream workstream) =>
        workstream.Tool
        ?? config.Adapters.Routing.FirstOrDefault(r => Regex.IsMatch(workstream.Id, "^" + Regex.Escape(r.Pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$"))?.Tool
        ?? config.Execution.DefaultTool;

    public ConfigMapping ToolConfig(string tool) =>
        config.Execution.ToolConfig.TryGetValue(tool, out var mapping) ? mapping : ConfigMapping.Empty;

    public ToolAdapter Resolve(Workstream workstream) => Available[ToolOf(workstream)];

    /// <summary>Every reason the workstreams cannot run, before anything starts: unknown, disabled or unusable tools.</summary>
    public IReadOnlyList<string> Problems(IEnumerable<Workstream> workstreams)
    {
        var problems = new List<string>();
        foreach (var ws in workstreams)
        {
            var tool = ToolOf(ws);
            if (!Available.TryGetValue(tool, out var adapter))
            {
                problems.Add($"{ws.Id} ({ws.Location}): tool '{tool}' cannot run in this version of uet (available: {string.Join(", ", Available.Keys)})");
            }
            else if (!config.Adapters.Enabled.Contains(tool))
            {
                problems.Add($"{ws.Id} ({ws.Location}): tool '{tool}' is not in adapters.enabled of the config");
            }
            else if (adapter.Problem(ws, ToolConfig(tool)) is { } problem)
            {
                problems.Add($"{problem} ({ws.Location})");
            }
        }

        return problems;
    }
}
