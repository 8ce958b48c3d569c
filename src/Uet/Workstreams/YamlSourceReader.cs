using System.Globalization;
using Uet.Yaml;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Uet.Workstreams;

/// <summary>Reads a YAML workstream file into the same <see cref="SourceNode"/> tree as JSON.</summary>
internal static class YamlSourceReader
{
    public static SourceNode Read(string text)
    {
        YamlStream stream;
        try
        {
            stream = YamlParsing.Load(text);
        }
        catch (SourceSyntaxException ex)
        {
            throw new SourceSyntaxException("not valid YAML: " + ex.Message, ex.Line, ex.Column);
        }

        if (stream.Documents.Count == 0)
        {
            throw new SourceSyntaxException("the file is empty: expected a workstream mapping or a list of them", 1, 1);
        }

        if (stream.Documents.Count > 1)
        {
            var second = stream.Documents[1].RootNode.Start;
            throw new SourceSyntaxException(
                "the file holds several YAML documents ('---'); put one workstream or one list of workstreams in a file",
                (int)second.Line,
                (int)second.Column);
        }

        return Convert(stream.Documents[0].RootNode);
    }

    private static SourceNode Convert(YamlNode node)
    {
        var line = (int)node.Start.Line;
        var column = (int)node.Start.Column;
        switch (node)
        {
            case YamlMappingNode mapping:
                var entries = new List<SourceEntry>(mapping.Children.Count);
                var merged = new List<SourceEntry>();
                foreach (var (key, value) in mapping.Children)
                {
                    var keyText = key is YamlScalarNode k ? k.Value ?? string.Empty : key.ToString();
                    if (keyText == "<<" && key is YamlScalarNode { Style: ScalarStyle.Plain })
                    {
                        merged.AddRange(MergeSources(value).SelectMany(m => ((SourceMapping)Convert(m)).Entries));
                        continue;
                    }

                    entries.Add(new SourceEntry(keyText, (int)key.Start.Line, (int)key.Start.Column, Convert(value)));
                }

                // Merge keys (<<: *defaults): keys written in the mapping win, then earlier merged mappings.
                foreach (var entry in merged)
                {
                    if (!entries.Exists(e => e.Key == entry.Key))
                    {
                        entries.Add(entry);
                    }
                }

                return new SourceMapping(entries, line, column);
            case YamlSequenceNode sequence:
                return new SourceSequence(sequence.Children.Select(Convert).ToList(), line, column);
            case YamlScalarNode scalar:
                return ConvertScalar(scalar, line, column);
            default:
                // Aliases are resolved by YamlStream; anything else is not something a workstream uses.
                return new SourceScalar(node.ToString(), ScalarKind.String, line, column);
        }
    }

    private static IEnumerable<YamlMappingNode> MergeSources(YamlNode value) => value switch
    {
        YamlMappingNode m => [m],
        YamlSequenceNode s => s.Children.OfType<YamlMappingNode>(),
        _ => [],
    };

    // Plain (unquoted) scalars follow the YAML core schema: null, booleans and numbers; quoted ones are strings.
    private static SourceScalar ConvertScalar(YamlScalarNode scalar, int line, int column)
    {
        var value = scalar.Value ?? string.Empty;
        if (scalar.Style is ScalarStyle.Plain or ScalarStyle.Any)
        {
            switch (value)
            {
                case "" or "~" or "null" or "Null" or "NULL":
                    return new SourceScalar(null, ScalarKind.Null, line, column);
                case "true" or "True" or "TRUE":
                    return new SourceScalar("true", ScalarKind.Boolean, line, column);
                case "false" or "False" or "FALSE":
                    return new SourceScalar("false", ScalarKind.Boolean, line, column);
            }

            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                return new SourceScalar(value, ScalarKind.Number, line, column);
            }
        }

        return new SourceScalar(value, ScalarKind.String, line, column);
    }
}
