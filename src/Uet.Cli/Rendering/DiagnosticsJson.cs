using System.Text.Json;
using Uet.Workstreams;

namespace Uet.Cli.Rendering;

/// <summary>The <c>uet validate --json</c> document (format <c>uet.validate/1</c>).</summary>
internal static class DiagnosticsJson
{
    public static void Write(WorkstreamSet set, Stream output)
    {
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("format", "uet.validate/1");
        json.WriteBoolean("ok", set.ErrorCount == 0);
        json.WriteNumber("files", set.FileCount);
        json.WriteNumber("errors", set.ErrorCount);
        json.WriteNumber("warnings", set.WarningCount);
        json.WriteStartArray("workstreams");
        foreach (var ws in set.Workstreams)
        {
            json.WriteStringValue(ws.Id);
        }

        json.WriteEndArray();
        json.WriteStartArray("diagnostics");
        foreach (var d in set.Diagnostics)
        {
            json.WriteStartObject();
            json.WriteString("severity", d.IsError ? "error" : "warning");
            json.WriteString("code", d.Code);
            json.WriteString("message", d.Message);
            Location(json, d.Location);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("skipped");
        foreach (var s in set.SkipInvalid ? set.Skipped : [])
        {
            json.WriteStartObject();
            json.WriteString("id", s.Id);
            json.WriteString("reason", s.Reason);
            Location(json, s.Location);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void Location(Utf8JsonWriter json, SourceLocation location)
    {
        json.WriteString("file", location.File);
        json.WriteNumber("line", location.Line);
        json.WriteNumber("column", location.Column);
    }
}
