using System.Globalization;

namespace Uet.State;

/// <summary>What one run of a tool spent, as far as it said: null where it printed nothing.</summary>
public sealed record ToolUsage(double? CostUsd, long? InputTokens, long? OutputTokens)
{
    public static ToolUsage None { get; } = new(null, null, null);

    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsEmpty => CostUsd is null && InputTokens is null && OutputTokens is null;

    /// <summary>Both together; a value stays null only when neither side has it.</summary>
    public ToolUsage Add(ToolUsage other) => new(
        Sum(CostUsd, other.CostUsd),
        Sum(InputTokens, other.InputTokens),
        Sum(OutputTokens, other.OutputTokens));

    /// <summary>One line for progress and reports: <c>$0.0123, 2000 tokens in, 100 out</c>.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (CostUsd is { } cost)
        {
            parts.Add(FormatUsd(cost));
        }

        if (InputTokens is not null || OutputTokens is not null)
        {
            parts.Add($"{InputTokens ?? 0} tokens in, {OutputTokens ?? 0} out");
        }

        return parts.Count == 0 ? "no usage reported" : string.Join(", ", parts);
    }

    public static string FormatUsd(double usd) => "$" + usd.ToString("0.####", CultureInfo.InvariantCulture);

    private static double? Sum(double? a, double? b) => a is null && b is null ? null : (a ?? 0) + (b ?? 0);

    private static long? Sum(long? a, long? b) => a is null && b is null ? null : (a ?? 0) + (b ?? 0);
}
