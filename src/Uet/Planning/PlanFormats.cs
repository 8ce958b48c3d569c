using System.Globalization;
using System.Text;
using System.Text.Json;
using Uet.Workstreams;

namespace Uet.Planning;

/// <summary>
/// The machine formats of a plan. The JSON shape is versioned by its <c>format</c> field and documented in the
/// README; fields are only ever added. Order is stable: waves by number, ids in dispatch order.
/// </summary>
public static class PlanFormats
{
    public const string JsonFormatVersion = "uet.plan/1";

    public static void WriteJson(Plan plan, IReadOnlyList<SkippedWorkstream> skipped, Stream output)
    {
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("format", JsonFormatVersion);
        json.WriteNumber("workers", plan.Options.Workers);
        Seconds(json, "default_estimate_seconds", plan.Options.DefaultEstimate);
        json.WriteNumber("workstream_count", plan.Workstreams.Count);
        json.WriteNumber("wave_count", plan.Waves.Count);

        json.WriteStartObject("estimates");
        Seconds(json, "sequential_seconds", plan.Estimates.Sequential);
        Seconds(json, "wave_barrier_seconds", plan.Estimates.WaveBarrier);
        Seconds(json, "dispatch_seconds", plan.Estimates.Dispatch);
        Seconds(json, "critical_path_seconds", plan.CriticalPath.Duration);
        json.WriteEndObject();

        json.WriteStartObject("critical_path");
        Seconds(json, "seconds", plan.CriticalPath.Duration);
        Strings(json, "workstreams", plan.CriticalPath.Workstreams);
        json.WriteEndObject();

        json.WriteStartArray("waves");
        foreach (var wave in plan.Waves)
        {
            json.WriteStartObject();
            json.WriteNumber("wave", wave.Number);
            Strings(json, "workstreams", wave.Workstreams);
            json.WriteStartArray("overlaps");
            foreach (var o in wave.Overlaps)
            {
                json.WriteStartObject();
                json.WriteString("a", o.A);
                json.WriteString("b", o.B);
                json.WriteString("a_scope", o.ScopeA);
                json.WriteString("b_scope", o.ScopeB);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteBoolean("overlaps_truncated", wave.OverlapsTruncated);
            json.WriteStartArray("conflict_groups");
            foreach (var g in wave.ConflictGroups)
            {
                json.WriteStartObject();
                json.WriteString("group", g.Group);
                Strings(json, "workstreams", g.Workstreams);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            Strings(json, "exclusive", wave.Exclusive);
            json.WriteEndObject();
        }

        json.WriteEndArray();

        json.WriteStartArray("workstreams");
        foreach (var ws in plan.Workstreams)
        {
            json.WriteStartObject();
            json.WriteString("id", ws.Id);
            json.WriteNumber("wave", ws.Wave);
            Seconds(json, "estimate_seconds", ws.Estimate);
            json.WriteString("estimate_source", ws.EstimateIsDefault ? "default" : "workstream");
            Seconds(json, "remaining_path_seconds", ws.RemainingPath);
            Strings(json, "depends_on", ws.Prerequisites);
            json.WriteEndObject();
        }

        json.WriteEndArray();

        json.WriteStartArray("skipped");
        foreach (var s in skipped)
        {
            json.WriteStartObject();
            if (s.Id is null)
            {
                json.WriteNull("id");
            }
            else
            {
                json.WriteString("id", s.Id);
            }

            json.WriteString("file", s.Location.File);
            json.WriteNumber("line", s.Location.Line);
            json.WriteNumber("column", s.Location.Column);
            json.WriteString("reason", s.Reason);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>A Mermaid flowchart: one subgraph per wave, an arrow from each prerequisite to its dependent.</summary>
    public static string ToMermaid(Plan plan)
    {
        var node = NodeNames(plan);
        var sb = new StringBuilder("flowchart LR\n");
        var critical = CriticalEdges(plan);
        foreach (var wave in plan.Waves)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  subgraph wave{wave.Number}[\"wave {wave.Number}\"]\n");
            foreach (var id in wave.Workstreams)
            {
                sb.Append(CultureInfo.InvariantCulture, $"    {node[id]}[\"{id}\"]\n");
            }

            sb.Append("  end\n");
        }

        var edge = 0;
        var criticalEdges = new List<int>();
        foreach (var ws in plan.Workstreams)
        {
            foreach (var p in ws.Prerequisites)
            {
                sb.Append(CultureInfo.InvariantCulture, $"  {node[p]} --> {node[ws.Id]}\n");
                if (critical.Contains((p, ws.Id)))
                {
                    criticalEdges.Add(edge);
                }

                edge++;
            }
        }

        foreach (var id in plan.CriticalPath.Workstreams)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  class {node[id]} critical\n");
        }

        sb.Append("  classDef critical stroke:#d33,stroke-width:3px\n");
        if (criticalEdges.Count > 0)
        {
            sb.Append("  linkStyle ").AppendJoin(',', criticalEdges).Append(" stroke:#d33,stroke-width:3px\n");
        }

        return sb.ToString();
    }

    /// <summary>Graphviz DOT: waves as ranks, the critical path in red.</summary>
    public static string ToDot(Plan plan)
    {
        var critical = CriticalEdges(plan);
        var onPath = plan.CriticalPath.Workstreams.ToHashSet(StringComparer.Ordinal);
        var sb = new StringBuilder("digraph uet {\n  rankdir=LR;\n  node [shape=box];\n");
        foreach (var wave in plan.Waves)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  subgraph wave_{wave.Number} {{\n    rank=same;\n");
            foreach (var id in wave.Workstreams)
            {
                sb.Append(CultureInfo.InvariantCulture, $"    \"{id}\"{(onPath.Contains(id) ? " [color=red, penwidth=2]" : string.Empty)};\n");
            }

            sb.Append("  }\n");
        }

        foreach (var ws in plan.Workstreams)
        {
            foreach (var p in ws.Prerequisites)
            {
                sb.Append(CultureInfo.InvariantCulture, $"  \"{p}\" -> \"{ws.Id}\"{(critical.Contains((p, ws.Id)) ? " [color=red, penwidth=2]" : string.Empty)};\n");
            }
        }

        return sb.Append("}\n").ToString();
    }

    // Ids contain '-', which Mermaid reads as part of an arrow; numbered node names avoid that.
    private static Dictionary<string, string> NodeNames(Plan plan) =>
        plan.Workstreams.Select((ws, i) => (ws.Id, Name: "n" + i.ToString(CultureInfo.InvariantCulture)))
            .ToDictionary(x => x.Id, x => x.Name, StringComparer.Ordinal);

    private static HashSet<(string, string)> CriticalEdges(Plan plan) =>
        plan.CriticalPath.Workstreams.Zip(plan.CriticalPath.Workstreams.Skip(1)).Select(p => (p.First, p.Second)).ToHashSet();

    private static void Seconds(Utf8JsonWriter json, string name, TimeSpan value) =>
        json.WriteNumber(name, Math.Round(value.TotalSeconds, 3));

    private static void Strings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var v in values)
        {
            json.WriteStringValue(v);
        }

        json.WriteEndArray();
    }
}
