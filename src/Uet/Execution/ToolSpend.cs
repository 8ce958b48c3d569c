using System.Globalization;
using System.Text.Json.Nodes;
using Uet.State;
using Uet.Workstreams;

namespace Uet.Execution;

/// <summary>
/// After a tool ran: what it spent (cost, tokens), read from its log by its adapter and recorded on the attempt's
/// step, and whether the workstream's attempts together have now cost more than its <c>max_cost_usd</c>.
/// </summary>
public static class ToolSpend
{
    /// <summary>
    /// Records the attempt's usage; returns why the workstream must stop when it is over budget (or when, with a
    /// budget, the attempt's spending is unknown because the tool was killed, <paramref name="cutShort"/>, or its
    /// output was cut at the log cap), else null.
    /// </summary>
    internal static async Task<string?> RecordAsync(RunContext run, Workstream workstream, string taskId, string stepId, string log, bool cutShort)
    {
        var adapter = run.Adapters.Resolve(workstream);
        if (!adapter.ReportsUsage)
        {
            return null;
        }

        var text = File.Exists(log) ? await File.ReadAllTextAsync(log, CancellationToken.None).ConfigureAwait(false) : string.Empty;
        // The tool's own output only: uet's lines in the log ("# ...": the command line, which holds the prompt) are not.
        var output = string.Join('\n', text.Split('\n').Where(line => !line.StartsWith("# ", StringComparison.Ordinal)));
        var usage = adapter.ParseUsage(output, run.Adapters.ToolConfig(adapter.Name));
        if (usage is null || usage.IsEmpty)
        {
            // Tools print their usage last: cut off by the log cap, or killed before the end, they spent an unknown sum.
            // With a budget to keep, unknown is not free.
            var cut = text.Contains("# uet: log truncated at ", StringComparison.Ordinal) ? "its output went past the log cap"
                : cutShort ? "it was stopped before it printed its usage"
                : null;
            return cut is not null && Limit(workstream) is { } budget
                ? $"cost limit: what {adapter.Name} spent in this attempt is unknown ({cut}), so max_cost_usd ({ToolUsage.FormatUsd(budget)}) cannot be kept; not retried"
                : null;
        }

        await run.TransactAsync((transaction, token) => transaction.SetStepUsageAsync(stepId, adapter.Name, usage, token)).ConfigureAwait(false);
        run.Report(new RunProgress("usage", workstream.Id, $"{adapter.Name}: {usage.Describe()}", 0, 0));
        if (Limit(workstream) is not { } limit)
        {
            return null;
        }

        var spent = await run.Store.TaskUsageAsync(taskId, CancellationToken.None).ConfigureAwait(false);
        // Reached is spent: the next attempt could only go over it (the same test as a resume's).
        return spent.CostUsd is { } cost && cost >= limit
            ? $"cost limit: the attempts of {workstream.Id} have cost {ToolUsage.FormatUsd(cost)}, which reaches its max_cost_usd of {ToolUsage.FormatUsd(limit)}; not retried"
            : null;
    }

    /// <summary>The workstream's <c>max_cost_usd</c>: a number, or a string such as "2.50" or "$2.50"; null when absent or unreadable.</summary>
    public static double? Limit(Workstream workstream)
    {
        if (!workstream.Attributes.TryGetValue("max_cost_usd", out var node) || node is not JsonValue value)
        {
            return null;
        }

        if (value.GetValueKind() == System.Text.Json.JsonValueKind.Number)
        {
            return double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        return value.TryGetValue<string>(out var text)
            && double.TryParse(text.Trim().TrimStart('$'), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : null;
    }
}
