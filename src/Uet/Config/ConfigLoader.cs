using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Uet.Config;

/// <summary>
/// Reads <c>.uet/config.yaml</c>. Binding is done by hand over YamlDotNet's node model rather than
/// by its deserializer so that every error can name the key path and the line and column it is on,
/// and so that all errors are reported together.
/// </summary>
public static class ConfigLoader
{
    /// <summary>Where the config lives, relative to the repository root.</summary>
    public const string DefaultRelativePath = ".uet/config.yaml";

    /// <summary>Loads <paramref name="path"/>; a missing file means <see cref="UetConfig.Default"/>.</summary>
    /// <exception cref="ConfigException">The file cannot be read, is not valid YAML, or holds invalid values.</exception>
    public static UetConfig LoadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return UetConfig.Default;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw ConfigException.Unreadable(path, ex);
        }

        return Parse(text, path);
    }

    /// <summary>Parses config text; <paramref name="sourceName"/> prefixes every error message.</summary>
    /// <exception cref="ConfigException">The text is not valid YAML or holds invalid values.</exception>
    public static UetConfig Parse(string yamlText, string sourceName = DefaultRelativePath)
    {
        var stream = new YamlStream();
        var parser = new Parser(new StringReader(yamlText));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException ex)
        {
            var (line, column) = ex.Message.Contains("tab", StringComparison.Ordinal)
                ? FirstTabIndentation(yamlText) ?? (ex.Start.Line, ex.Start.Column)
                : (ex.Start.Line, ex.Start.Column);
            var error = $"{sourceName}:{line}:{column}: invalid YAML: {StripMarks(ex)}";
            throw ConfigException.Invalid(sourceName, [error], ex);
        }
        catch (InvalidOperationException ex)
        {
            // YamlDotNet's scanner throws this, without a position, on some unclosed flow collections
            // ("[a, b" then a new key); the last event it parsed is the best position we have.
            var mark = parser.Current?.End ?? Mark.Empty;
            var error = $"{sourceName}:{mark.Line}:{mark.Column}: invalid YAML: the parser stopped after this point; "
                + "look for an unclosed '[', '{' or quote";
            throw ConfigException.Invalid(sourceName, [error], ex);
        }

        if (stream.Documents.Count == 0)
        {
            return UetConfig.Default;
        }

        var binder = new ConfigBinder(sourceName);
        if (stream.Documents.Count > 1)
        {
            binder.Report(stream.Documents[1].RootNode, "", "the file holds more than one YAML document ('---'); put everything in one");
        }

        var config = binder.BindRoot(stream.Documents[0].RootNode);
        if (binder.Errors.Count > 0)
        {
            throw ConfigException.Invalid(sourceName, binder.Errors);
        }

        return config;
    }

    // YamlDotNet marks a tab in the indentation at the start of the enclosing block (often 1:1);
    // pointing at the tab itself is what lets the user find it.
    private static (long Line, long Column)? FirstTabIndentation(string text)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var indentation = lines[i].Length - lines[i].TrimStart(' ', '\t').Length;
            var tab = lines[i].IndexOf('\t', StringComparison.Ordinal);
            if (tab >= 0 && tab < indentation)
            {
                return (i + 1, tab + 1);
            }
        }

        return null;
    }

    // Older YamlDotNet versions put "(Line: 3, Col: 5, Idx: 20) - (Line: ...): " in front of its message; we
    // already say file:line:col, so keep only the explanation.
    private static string StripMarks(YamlException ex)
    {
        var message = ex.Message;
        var marker = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line:", StringComparison.Ordinal) && marker >= 0
            ? message[(marker + 3)..]
            : message;
    }
}
