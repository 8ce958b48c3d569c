using System.Text;
using System.Text.Json;

namespace Uet.Execution.Adapters;

/// <summary>
/// Finds the JSON objects a tool printed among the other lines of its log: every line that starts with <c>{</c> is
/// tried as the start of one object (one line of JSONL, or a pretty-printed document over many lines).
/// </summary>
internal static class UsageJson
{
    public static IEnumerable<JsonElement> Objects(string output)
    {
        var bytes = Encoding.UTF8.GetBytes(output);
        var offset = 0;
        while (offset < bytes.Length)
        {
            var next = offset;
            if (bytes[offset] == (byte)'{' && TryParse(bytes.AsSpan(offset), out var element, out var consumed))
            {
                yield return element;
                next = offset + consumed;
            }

            var newline = Array.IndexOf(bytes, (byte)'\n', next);
            if (newline < 0)
            {
                yield break;
            }

            offset = newline + 1;
        }
    }

    // A cost or a count is never negative or infinite: such a value is not a reading, and is left out.
    public static double? Double(JsonElement element, params string[] path) =>
        Walk(element, path) is { ValueKind: JsonValueKind.Number } number && number.TryGetDouble(out var value) && double.IsFinite(value) && value >= 0 ? value : null;

    public static long? Long(JsonElement element, params string[] path) =>
        Walk(element, path) is { ValueKind: JsonValueKind.Number } number && number.TryGetInt64(out var value) && value >= 0 ? value : null;

    public static string? String(JsonElement element, params string[] path) =>
        Walk(element, path) is { ValueKind: JsonValueKind.String } text ? text.GetString() : null;

    public static JsonElement? Walk(JsonElement element, params string[] path)
    {
        foreach (var name in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element))
            {
                return null;
            }
        }

        return element;
    }

    public static long? Sum(long? a, long? b) => a is null && b is null ? null : (a ?? 0) + (b ?? 0);

    private static bool TryParse(ReadOnlySpan<byte> bytes, out JsonElement element, out int consumed)
    {
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            if (JsonDocument.TryParseValue(ref reader, out var document) && document is not null)
            {
                using (document)
                {
                    element = document.RootElement.Clone();
                    consumed = (int)reader.BytesConsumed;
                    return element.ValueKind == JsonValueKind.Object;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON after all (or cut off by the log's cap): an ordinary line.
        }

        element = default;
        consumed = 0;
        return false;
    }
}
