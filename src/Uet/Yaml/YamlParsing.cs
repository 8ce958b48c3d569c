using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;
using Uet.Workstreams;

namespace Uet.Yaml;

/// <summary>
/// Loads YAML text into YamlDotNet's node model, turning every way the parser can fail into one
/// <see cref="SourceSyntaxException"/> with a 1-based line and column the user can jump to.
/// Shared by the config and the workstream loaders.
/// </summary>
internal static class YamlParsing
{
    /// <summary>Deeper than this is no workstream or config; it would only overflow the stack of the recursive loader.</summary>
    public const int MaxDepth = 64;

    /// <summary>Values a document may expand to through aliases ("billion laughs" would need terabytes).</summary>
    public const long MaxExpandedValues = 1_000_000;

    public static YamlStream Load(string text)
    {
        var stream = new YamlStream();
        IParser parser = new Parser(new StringReader(text));
        try
        {
            CheckShape(parser);
            parser = new Parser(new StringReader(text));
            stream.Load(parser);
            return stream;
        }
        catch (YamlException ex)
        {
            var (line, column) = ex.Message.Contains("tab", StringComparison.Ordinal)
                ? FirstTabIndentation(text) ?? (ex.Start.Line, ex.Start.Column)
                : (ex.Start.Line, ex.Start.Column);
            throw new SourceSyntaxException(StripMarks(ex), (int)line, (int)column, ex);
        }
        catch (InvalidOperationException ex)
        {
            // YamlDotNet's scanner throws this, without a position, on some unclosed flow collections
            // ("[a, b" then a new key); the last event it parsed is the best position we have.
            var mark = (parser as Parser)?.Current?.End ?? Mark.Empty;
            throw new SourceSyntaxException(
                "the parser stopped after this point; look for an unclosed '[', '{' or quote",
                (int)mark.Line,
                (int)mark.Column,
                ex);
        }
    }

    /// <summary>
    /// Walks the event stream once (iteratively) before anything recursive touches the document: refuses nesting
    /// deeper than <see cref="MaxDepth"/> and aliases that would expand to more than <see cref="MaxExpandedValues"/>.
    /// </summary>
    private static void CheckShape(IParser parser)
    {
        long total = 0;
        var open = new Stack<(AnchorName Anchor, long Start)>();
        var sizes = new Dictionary<AnchorName, long>();
        while (parser.MoveNext())
        {
            var current = parser.Current!;
            switch (current)
            {
                case AnchorAlias alias:
                    total += sizes.GetValueOrDefault(alias.Value, 1);
                    break;
                case Scalar scalar:
                    total++;
                    if (!scalar.Anchor.IsEmpty)
                    {
                        sizes[scalar.Anchor] = 1;
                    }

                    break;
                case NodeEvent start when start is MappingStart or SequenceStart:
                    total++;
                    open.Push((start.Anchor, total - 1));
                    if (open.Count > MaxDepth)
                    {
                        throw new SourceSyntaxException($"nested more than {MaxDepth} levels deep", (int)current.Start.Line, (int)current.Start.Column);
                    }

                    break;
                case MappingEnd or SequenceEnd:
                    var (anchor, begin) = open.Pop();
                    if (!anchor.IsEmpty)
                    {
                        sizes[anchor] = total - begin;
                    }

                    break;
            }

            if (total > MaxExpandedValues)
            {
                throw new SourceSyntaxException(
                    $"the document expands to more than {MaxExpandedValues:N0} values through aliases (*name); write the values out or use fewer aliases",
                    (int)current.Start.Line,
                    (int)current.Start.Column);
            }
        }
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
        var message = ex.InnerException?.Message ?? ex.Message;
        var marker = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line:", StringComparison.Ordinal) && marker >= 0
            ? message[(marker + 3)..]
            : message;
    }
}
