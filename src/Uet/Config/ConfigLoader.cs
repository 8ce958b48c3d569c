using Uet.Workstreams;
using Uet.Yaml;
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
        YamlStream stream;
        try
        {
            stream = YamlParsing.Load(yamlText);
        }
        catch (SourceSyntaxException ex)
        {
            throw ConfigException.Invalid(sourceName, [$"{sourceName}:{ex.Line}:{ex.Column}: invalid YAML: {ex.Message}"], ex.InnerException ?? ex);
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
}
