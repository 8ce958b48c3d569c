using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Uet.Telemetry;

/// <summary>
/// The structured log of a run: one JSON object per line for every span uet ends (run, task, attempt, tool call,
/// patch apply, validator) with its ids, parent, times, status, tags and the state changes made inside it, in
/// <c>&lt;log_dir&gt;/&lt;run&gt;/telemetry.jsonl</c>, beside the attempts' text logs. Listens while it lives.
/// </summary>
public sealed class JsonLinesLog : IDisposable
{
    public const string FileName = "telemetry.jsonl";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly string _logRoot;
    private readonly ActivityListener _listener;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, StreamWriter> _files = new(StringComparer.Ordinal);
    private bool _disposed;

    public JsonLinesLog(string logRoot)
    {
        _logRoot = logRoot;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == UetTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = Write,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public static string PathFor(string logRoot, string runId) => Path.Combine(logRoot, runId, FileName);

    private void Write(Activity activity)
    {
        if (activity.GetTagItem(UetTelemetry.RunIdTag) is not string runId)
        {
            return;
        }

        var line = Line(activity);
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            try
            {
                if (!_files.TryGetValue(runId, out var file))
                {
                    var path = PathFor(_logRoot, runId);
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    file = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite), new UTF8Encoding(false));
                    _files[runId] = file;
                }

                file.Write(line);
                file.Write('\n');
                file.Flush();
            }
            catch (IOException)
            {
                // A log that cannot be written must never stop a run; the store holds the record.
            }
        }
    }

    private static string Line(Activity activity)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("time", Time(activity.StartTimeUtc + activity.Duration));
            json.WriteString("name", activity.OperationName);
            json.WriteString("trace_id", activity.TraceId.ToHexString());
            json.WriteString("span_id", activity.SpanId.ToHexString());
            if (activity.ParentSpanId != default)
            {
                json.WriteString("parent_span_id", activity.ParentSpanId.ToHexString());
            }

            json.WriteString("start", Time(activity.StartTimeUtc));
            json.WriteNumber("duration_ms", Math.Round(activity.Duration.TotalMilliseconds, 3));
            json.WriteString("status", activity.Status switch { ActivityStatusCode.Error => "error", ActivityStatusCode.Ok => "ok", _ => "unset" });
            if (activity.StatusDescription is { } description)
            {
                json.WriteString("status_description", description);
            }

            json.WriteStartObject("tags");
            foreach (var (key, value) in activity.TagObjects)
            {
                WriteValue(json, key, value);
            }

            json.WriteEndObject();
            if (activity.Events.Any())
            {
                json.WriteStartArray("events");
                foreach (var e in activity.Events)
                {
                    json.WriteStartObject();
                    json.WriteString("name", e.Name);
                    json.WriteString("time", Time(e.Timestamp.UtcDateTime));
                    foreach (var (key, value) in e.Tags)
                    {
                        WriteValue(json, key, value);
                    }

                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void WriteValue(Utf8JsonWriter json, string key, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNull(key);
                break;
            case int or long:
                json.WriteNumber(key, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case bool flag:
                json.WriteBoolean(key, flag);
                break;
            default:
                json.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    private static string Time(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public void Dispose()
    {
        _listener.Dispose();
        lock (_gate)
        {
            _disposed = true;
            foreach (var file in _files.Values)
            {
                file.Dispose();
            }

            _files.Clear();
        }
    }
}
