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
    /// <summary>Records the attempt's usage; returns why the workstream must stop when it is over budget, else null.</summary>
    internal static async Task<string?> RecordAsync(RunContext run, Workstream workstream, string taskId, string stepId, string log)
    {
        var adapter = run.Adapters.Resolve(workstream);
        if (!adapter.ReportsUsage)
        {
            return null;
        }

        var output = File.Exists(log) ? await File.ReadAllTextAsync(log, CancellationToken.None).ConfigureAwait(false) : string.Empty;
        var usage = adapter.ParseUsage(output, run.Adapters.ToolConfig(adapter.Name));
        if (usage is null || usage.IsEmpty)
        {
            return null;
        }

        await run.TransactAsync((transaction, token) => transaction.SetStepUsageAsync(stepId, adapter.Name, usage, token)).ConfigureAwait(false);
        run.Report(new RunProgress("usage", workstream.Id, $"{adapter.Name}: {usage.Describe()}", 0, 0));
        if (Limit(workstream) is not { } limit)
        {
            return null;
        }

        var spent = await run.Store.TaskUsageAsync(taskId, CancellationToken.None).ConfigureAwait(false);
        return spent.CostUsd is { } cost && cost > limit
            ? $"cost limit: the attempts of {workstream.Id} have cost {ToolUsage.FormatUsd(cost)}, more than its max_cost_usd of {ToolUsage.FormatUsd(limit)}; not retried"
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
