using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Uet.Config;

// Typed readers shared by the section binders. Each returns the current value after recording an
// error, so one bad key never hides the next one.
internal sealed partial class ConfigBinder
{
    private readonly string _sourceName;
    private readonly List<string> _errors = [];

    public ConfigBinder(string sourceName)
    {
        _sourceName = sourceName;
    }

    public IReadOnlyList<string> Errors => _errors;

    public void Report(YamlNode node, string path, string message)
    {
        var where = $"{_sourceName}:{node.Start.Line}:{node.Start.Column}: ";
        _errors.Add(path.Length == 0 ? where + message : $"{where}{path}: {message}");
    }

    private bool RequireKey(YamlNode node, string path, string key, object? value)
    {
        if (value is null && node is YamlMappingNode)
        {
            Report(node, path, $"missing required key '{key}'");
        }

        return value is not null;
    }

    private string ReadString(YamlNode node, string path, string current) =>
        ReadNullableString(node, path, current, allowNull: false) ?? current;

    private string? ReadNullableString(YamlNode node, string path, string? current, bool allowNull = true)
    {
        if (IsNull(node) && allowNull)
        {
            return null;
        }

        if (node is not YamlScalarNode { Value: { } text } || IsNull(node))
        {
            Report(node, path, $"expected a string, got {Describe(node)}");
            return current;
        }

        if (text.Trim().Length == 0)
        {
            Report(node, path, "must not be empty");
            return current;
        }

        return text;
    }

    private int ReadInt(YamlNode node, string path, int current, int min)
    {
        if (PlainText(node, path, "an integer") is not { } text)
        {
            return current;
        }

        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            var tooLarge = text.TrimStart('-', '+').All(char.IsAsciiDigit) && text.Length > 1;
            Report(node, path, tooLarge ? $"'{text}' is too large for an integer" : $"expected an integer, got '{text}'");
            return current;
        }

        if (value < min)
        {
            Report(node, path, $"must be at least {min}, got {value}");
            return current;
        }

        return value;
    }

    private double ReadNumber(YamlNode node, string path, double current, double min, bool minExclusive)
    {
        if (PlainText(node, path, "a number") is not { } text)
        {
            return current;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            Report(node, path, $"expected a number, got '{text}'");
            return current;
        }

        var display = value.ToString(CultureInfo.InvariantCulture);
        if (minExclusive ? value <= min : value < min)
        {
            var bound = minExclusive ? "greater than" : "at least";
            Report(node, path, $"must be {bound} {min.ToString(CultureInfo.InvariantCulture)}, got {display}");
            return current;
        }

        return value;
    }

    private bool ReadBool(YamlNode node, string path, bool current)
    {
        // Only true/false: YAML 1.1's yes/no/on/off surprise people ("no" as a country code).
        switch (PlainText(node, path, "true or false"))
        {
            case null:
                return current;
            case var t when t.Equals("true", StringComparison.OrdinalIgnoreCase):
                return true;
            case var t when t.Equals("false", StringComparison.OrdinalIgnoreCase):
                return false;
            case var t:
                Report(node, path, $"expected true or false, got '{t}'");
                return current;
        }
    }

    private T ReadChoice<T>(YamlNode node, string path, T current, (string Name, T Value)[] choices)
    {
        var names = string.Join(", ", choices.Select(c => c.Name));
        if (node is not YamlScalarNode { Value: { } text } || IsNull(node))
        {
            Report(node, path, $"expected one of {names}, got {Describe(node)}");
            return current;
        }

        foreach (var (name, value) in choices)
        {
            if (name == text)
            {
                return value;
            }
        }

        Report(node, path, $"expected one of {names}, got '{text}'");
        return current;
    }

    /// <summary>The text of a plain scalar; a quoted one is refused because YAML makes it a string.</summary>
    private string? PlainText(YamlNode node, string path, string expected)
    {
        if (node is not YamlScalarNode { Value: { } text } scalar || IsNull(node))
        {
            Report(node, path, $"expected {expected}, got {Describe(node)}");
            return null;
        }

        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted)
        {
            Report(node, path, $"expected {expected}, got the quoted string '{text}' (remove the quotes)");
            return null;
        }

        return text;
    }

    private ValueList<T> ReadList<T>(YamlNode node, string path, ValueList<T> current, Func<YamlNode, string, T?> bindItem)
        where T : class
    {
        if (IsNull(node))
        {
            return [];
        }

        if (node is not YamlSequenceNode sequence)
        {
            Report(node, path, $"expected a list, got {Describe(node)}");
            return current;
        }

        var items = new List<T>();
        foreach (var (child, index) in sequence.Children.Select((c, i) => (c, i)))
        {
            if (bindItem(child, $"{path}[{index}]") is { } item)
            {
                items.Add(item);
            }
        }

        return ValueList.From(items);
    }

    private ValueList<string> ReadStringList(YamlNode node, string path, ValueList<string> current) =>
        ReadList(node, path, current, (item, itemPath) =>
        {
            var text = ReadString(item, itemPath, "");
            return text.Length > 0 ? text : null;
        });

    private ValueList<string>? ReadArgv(YamlNode node, string path)
    {
        if (node is YamlScalarNode { Value: { } text } && !IsNull(node))
        {
            var suggestion = string.Join(", ", text.Split(' ', StringSplitOptions.RemoveEmptyEntries));
            Report(node, path, $"expected a list of arguments, got the string '{text}'; write it as a list, e.g. [{suggestion}], so nothing depends on shell quoting");
            return null;
        }

        if (IsNull(node) || node is not YamlSequenceNode { Children.Count: > 0 })
        {
            Report(node, path, node is YamlSequenceNode
                ? "must not be empty: give the program and its arguments"
                : $"expected a list of arguments, got {Describe(node)}");
            return null;
        }

        var before = _errors.Count;
        var argv = ReadStringList(node, path, []);
        return _errors.Count == before ? argv : null;
    }

    private static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        _ when IsNull(node) => "nothing (null)",
        YamlScalarNode scalar => $"'{scalar.Value}'",
        _ => "an unsupported YAML node",
    };
}
