using System.Text.Json;
using Uet.State;

namespace Uet.Cli.Rendering;

/// <summary>JSON shapes of the state commands. Times are ISO 8601 UTC; field names are the database's.</summary>
internal static class StateJson
{
    public static void WriteWorkers(IReadOnlyList<WorkerRecord> workers, Stream output)
    {
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        json.WriteStartArray();
        foreach (var w in workers)
        {
            Worker(json, w);
        }

        json.WriteEndArray();
    }

    public static void Worker(Utf8JsonWriter json, WorkerRecord w)
    {
        json.WriteStartObject();
        json.WriteString("worker_id", w.WorkerId);
        json.WriteString("run_id", w.RunId);
        json.WriteString("state", w.State);
        json.WriteString("current_task_id", w.CurrentTaskId);
        json.WriteString("host", w.Host);
        if (w.Pid is { } pid)
        {
            json.WriteNumber("pid", pid);
        }
        else
        {
            json.WriteNull("pid");
        }

        Time(json, "created_at", w.CreatedAt);
        Time(json, "heartbeat_at", w.HeartbeatAt);
        Time(json, "lease_expires_at", w.LeaseExpiresAt);
        Time(json, "terminated_at", w.TerminatedAt);
        json.WriteEndObject();
    }

    /// <summary>One event as one compact JSON object (a line of <c>uet events --json</c>).</summary>
    public static string EventLine(StateEvent e)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            Event(json, e);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static void Event(Utf8JsonWriter json, StateEvent e)
    {
        json.WriteStartObject();
        json.WriteNumber("event_id", e.EventId);
        json.WriteString("at", e.At.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        json.WriteString("run_id", e.RunId);
        json.WriteString("entity", e.Entity.Name());
        json.WriteString("entity_id", e.EntityId);
        json.WriteString("event_type", e.EventType);
        json.WriteString("from_state", e.FromState);
        json.WriteString("to_state", e.ToState);
        if (e.Data is null)
        {
            json.WriteNull("data");
        }
        else if (IsJson(e.Data))
        {
            json.WritePropertyName("data");
            json.WriteRawValue(e.Data);
        }
        else
        {
            json.WriteString("data", e.Data);
        }

        json.WriteEndObject();
    }

    private static bool IsJson(string text)
    {
        try
        {
            using var _ = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public static void Time(Utf8JsonWriter json, string name, DateTimeOffset? value)
    {
        if (value is { } v)
        {
            json.WriteString(name, v.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
