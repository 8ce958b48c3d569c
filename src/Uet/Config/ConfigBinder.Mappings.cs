using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Uet.Config;

// Walking mappings: key checks, unknown-key hints, and values kept as written.
internal sealed partial class ConfigBinder
{
    /// <summary>The entries of a mapping with known keys; null = an empty section (all children commented out).</summary>
    private IEnumerable<(string Key, YamlNode Value, string Path)> Entries(YamlNode node, string path, string[]? knownKeys)
    {
        if (IsNull(node))
        {
            yield break;
        }

        if (node is not YamlMappingNode mapping)
        {
            Report(node, path, $"expected a mapping, got {Describe(node)}");
            yield break;
        }

        // YamlDotNet rejects a repeated key only when the key nodes are equal, tags included, so
        // '1' and '!!str 1' get past it; ValueMap needs unique keys.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key } || IsNull(keyNode))
            {
                Report(keyNode, path, $"expected a key name, got {Describe(keyNode)}");
                continue;
            }

            var keyPath = path.Length == 0 ? key : $"{path}.{key}";
            if (!seen.Add(key))
            {
                Report(keyNode, keyPath, "duplicate key; each key may appear once");
                continue;
            }

            if (knownKeys is not null && !knownKeys.Contains(key, StringComparer.Ordinal))
            {
                Report(keyNode, keyPath, UnknownKeyMessage(key, knownKeys));
                continue;
            }

            yield return (key, value, keyPath);
        }
    }

    private static string UnknownKeyMessage(string key, string[] knownKeys)
    {
        var known = $"(known keys: {string.Join(", ", knownKeys)})";
        var closest = knownKeys.MinBy(k => EditDistance(k, key));
        return closest is not null && EditDistance(closest, key) <= 2
            ? $"unknown key {known}; did you mean '{closest}'?"
            : $"unknown key {known}";
    }

    private ConfigMapping ReadMapping(YamlNode node, string path)
    {
        if (IsNull(node))
        {
            return ConfigMapping.Empty;
        }

        if (node is not YamlMappingNode)
        {
            Report(node, path, $"expected a mapping, got {Describe(node)}");
            return ConfigMapping.Empty;
        }

        return (ConfigMapping)ToValue(node, path);
    }

    private ConfigValue ToValue(YamlNode node, string path) => node switch
    {
        YamlSequenceNode sequence => new ConfigSequence(
            ValueList.From(sequence.Children.Select((c, i) => ToValue(c, $"{path}[{i}]")))),
        YamlMappingNode => new ConfigMapping(ValueMap.From(
            Entries(node, path, knownKeys: null).Select(e => KeyValuePair.Create(e.Key, ToValue(e.Value, e.Path))))),
        _ => new ConfigScalar(IsNull(node) ? null : ((YamlScalarNode)node).Value),
    };

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } scalar
        && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";

    private static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitute, Math.Min(previous[j], current[j - 1]) + 1);
            }

            previous = current;
        }

        return previous[b.Length];
    }
}
