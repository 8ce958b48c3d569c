using System.Text.Json;
using Uet.State;

namespace Uet.Cli.Rendering;

/// <summary>One event as one line: time, id, type, entity, transition, reason.</summary>
internal static class EventText
{
    public static string Line(StateEvent e)
    {
        var transition = e.FromState is null ? $"-> {e.ToState}" : $"{e.FromState} -> {e.ToState}";
        var run = e.RunId is null || e.Entity == EntityKind.Run ? string.Empty : $" ({e.RunId})";
        return $"{TimeText.Time(e.At)}  #{e.EventId,-6} {e.EventType,-18} {e.Entity.Name()} {e.EntityId}{run}  {transition}{Reason(e.Data)}";
    }

    private static string Reason(string? data)
    {
        if (data is null)
        {
            return string.Empty;
        }

        try
        {
            using var doc = JsonDocument.Parse(data);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("reason", out var reason) && reason.ValueKind == JsonValueKind.String
                ? "  " + reason.GetString()
                : "  " + data;
        }
        catch (JsonException)
        {
            return "  " + data;
        }
    }
}
