using System.CommandLine;
using System.Text.Json;
using Uet.Execution.Adapters;
using Uet.Workstreams;

namespace Uet.Cli.Commands;

/// <summary>
/// <c>uet doctor</c>: which tools are installed here and their versions, and which workstreams would fail to find or
/// start their tool. Exit 0 when every workstream can run, 1 when one cannot (or a workstream file is invalid).
/// </summary>
internal static class DoctorCommand
{
    private sealed record WorkstreamCheck(string Id, string Tool, string? Problem);

    public static Command Create(CliOutput output)
    {
        var common = new CommonOptions();
        var command = new Command("doctor", "Which tools are installed (and their versions), and which workstreams would fail to find or run their tool.");
        common.AddTo(command);
        command.Options.Add(common.Json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var config = common.LoadConfig(parse);
            var registry = new AdapterRegistry(config);
            var tools = await ToolCheck.CheckAsync(config, cancellationToken).ConfigureAwait(false);

            // Without workstreams (none given, and none in the workstream folder) there is only the machine to check;
            // paths given explicitly must hold workstreams, as for validate.
            var source = common.Source(parse, config);
            var hasWorkstreams = parse.GetValue(common.Paths) is { Length: > 0 }
                || source.Paths.All(p => Directory.Exists(p) && Directory.EnumerateFiles(p).Any(f => new FileNamePattern(source.Pattern).IsMatch(Path.GetFileName(f))));
            var set = hasWorkstreams ? WorkstreamLoader.Load(source, parse.GetValue(common.SkipInvalid), cancellationToken) : null;
            var broken = tools.Where(t => t.Installed && t.Error is not null).ToDictionary(t => t.Name, t => t.Error!, StringComparer.Ordinal);
            var checks = set?.Workstreams.Select(ws =>
            {
                var tool = registry.ToolOf(ws);
                // Found but not working (its --version fails: a runtime too old, a broken install) fails as surely.
                var problem = registry.Problem(ws) ?? (broken.TryGetValue(tool, out var error) ? $"{ws.Id} uses {tool}, which is installed but does not run: {error}" : null);
                return new WorkstreamCheck(ws.Id, tool, problem);
            }).ToArray() ?? [];
            var ok = (set is null || set.IsUsable) && checks.All(c => c.Problem is null);

            if (parse.GetValue(common.Json))
            {
                output.WriteJson(stream => WriteJson(stream, tools, set, checks, ok));
            }
            else
            {
                WriteText(output.Out, tools, set, source, checks);
            }

            return ok ? UetApp.Ok : UetApp.InvalidInput;
        });
        return command;
    }

    private static void WriteText(TextWriter writer, IReadOnlyList<ToolStatus> tools, WorkstreamSet? set, WorkstreamSource source, IReadOnlyList<WorkstreamCheck> checks)
    {
        writer.WriteLine("Tools");
        var rows = tools.Select(t => new[]
        {
            t.Name,
            t.Enabled ? "enabled" : "disabled",
            t.Program is null ? "built in" : t.Path is null ? "not installed" : "installed",
            t.Version ?? (t.Error is null ? "-" : "?"),
            t.Program is null ? string.Empty : t.Path ?? $"'{t.Program}' not found on PATH",
        }).ToArray();
        var widths = Enumerable.Range(0, 4).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var (row, tool) in rows.Zip(tools))
        {
            writer.WriteLine(("  " + string.Join("  ", row.Take(4).Select((cell, i) => cell.PadRight(widths[i]))) + "  " + row[4]).TrimEnd());
            if (tool.Error is not null)
            {
                writer.WriteLine($"    {tool.Error}");
            }
        }

        writer.WriteLine();
        if (set is null)
        {
            writer.WriteLine($"Workstreams: none in {string.Join(", ", source.Paths)} ({source.Pattern}); pass a folder or files to check them.");
            return;
        }

        writer.WriteLine($"Workstreams ({checks.Count} in {string.Join(", ", source.Paths)})");
        var idWidth = checks.Count == 0 ? 0 : checks.Max(c => c.Id.Length);
        var toolWidth = checks.Count == 0 ? 0 : checks.Max(c => c.Tool.Length);
        foreach (var check in checks)
        {
            writer.WriteLine($"  {check.Id.PadRight(idWidth)}  {check.Tool.PadRight(toolWidth)}  {(check.Problem is null ? "ok" : "FAILS: " + check.Problem)}");
        }

        if (!set.IsUsable)
        {
            writer.WriteLine($"  {set.ErrorCount} error{(set.ErrorCount == 1 ? string.Empty : "s")} in the workstream files: run 'uet validate' to see them.");
        }

        var failing = checks.Count(c => c.Problem is not null);
        writer.WriteLine();
        writer.WriteLine(failing == 0
            ? $"{checks.Count} of {checks.Count} workstreams can run their tool."
            : $"{failing} of {checks.Count} workstreams would fail to find or run their tool.");
    }

    private static void WriteJson(Stream stream, IReadOnlyList<ToolStatus> tools, WorkstreamSet? set, IReadOnlyList<WorkstreamCheck> checks, bool ok)
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("format", "uet.doctor/1");
        json.WriteBoolean("ok", ok);
        json.WriteStartArray("tools");
        foreach (var t in tools)
        {
            json.WriteStartObject();
            json.WriteString("name", t.Name);
            json.WriteBoolean("enabled", t.Enabled);
            json.WriteBoolean("installed", t.Installed);
            json.WriteString("program", t.Program);
            json.WriteString("path", t.Path);
            json.WriteString("version", t.Version);
            json.WriteString("error", t.Error);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("workstreams");
        foreach (var c in checks)
        {
            json.WriteStartObject();
            json.WriteString("id", c.Id);
            json.WriteString("tool", c.Tool);
            json.WriteBoolean("ok", c.Problem is null);
            json.WriteString("problem", c.Problem);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteNumber("workstream_errors", set?.ErrorCount ?? 0);
        json.WriteEndObject();
    }
}
