using System.Text;
using System.Text.Json;

namespace Uet.Workstreams;

/// <summary>
/// Reads JSON (with <c>//</c> and <c>/* */</c> comments and trailing commas, as real workstream files have them)
/// into a <see cref="SourceNode"/> tree with line and column on every node.
/// </summary>
internal static class JsonSourceReader
{
    private static readonly JsonReaderOptions Options = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = 128,
    };

    public static SourceNode Read(ReadOnlySpan<byte> utf8)
    {
        if (utf8.StartsWith("\uFEFF"u8))
        {
            utf8 = utf8[3..];
        }

        var reader = new Utf8JsonReader(utf8, Options);
        var positions = new PositionTracker(utf8);
        try
        {
            if (!reader.Read())
            {
                throw Empty();
            }

            var root = ReadValue(ref reader, ref positions);
            if (reader.Read())
            {
                var (line, column) = positions.At(reader.TokenStartIndex);
                throw new SourceSyntaxException("unexpected content after the end of the JSON value", line, column);
            }

            return root;
        }
        catch (JsonException ex) when (reader.TokenType == JsonTokenType.None && IsBlankOrComments(ex))
        {
            throw Empty();
        }
        catch (JsonException ex)
        {
            var line = (int)(ex.LineNumber ?? 0);
            throw new SourceSyntaxException(CleanMessage(ex.Message), line + 1, CharacterColumn(utf8, line, (int)(ex.BytePositionInLine ?? 0)));
        }
        catch (InvalidOperationException ex)
        {
            // GetString refuses bytes that are not UTF-8; that is the file's fault, not ours.
            var (line, column) = new PositionTracker(utf8).At(reader.TokenStartIndex);
            throw new SourceSyntaxException("not valid UTF-8 text in this string: save the file as UTF-8", line, column, ex);
        }
    }

    private static SourceSyntaxException Empty() =>
        new("the file is empty (or holds only comments): expected a workstream object or an array of them", 1, 1);

    // System.Text.Json says "does not contain any JSON tokens" for empty and comment-only input.
    private static bool IsBlankOrComments(JsonException ex) =>
        ex.Message.Contains("does not contain any JSON tokens", StringComparison.Ordinal);

    /// <summary>The 1-based character column of a byte position in a 0-based line, as editors count it.</summary>
    private static int CharacterColumn(ReadOnlySpan<byte> utf8, int line, int bytePosition)
    {
        var start = 0;
        for (var l = 0; l < line; l++)
        {
            var next = utf8[start..].IndexOf((byte)'\n');
            if (next < 0)
            {
                return bytePosition + 1;
            }

            start += next + 1;
        }

        var column = 1;
        var end = Math.Min(utf8.Length, start + bytePosition);
        for (var i = start; i < end; i++)
        {
            if ((utf8[i] & 0xC0) != 0x80)
            {
                column++;
            }
        }

        return column;
    }

    private static SourceNode ReadValue(ref Utf8JsonReader reader, ref PositionTracker positions)
    {
        var (line, column) = positions.At(reader.TokenStartIndex);
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var entries = new List<SourceEntry>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var (keyLine, keyColumn) = positions.At(reader.TokenStartIndex);
                    var key = reader.GetString()!;
                    reader.Read();
                    entries.Add(new SourceEntry(key, keyLine, keyColumn, ReadValue(ref reader, ref positions)));
                }

                return new SourceMapping(entries, line, column);
            case JsonTokenType.StartArray:
                var items = new List<SourceNode>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    items.Add(ReadValue(ref reader, ref positions));
                }

                return new SourceSequence(items, line, column);
            case JsonTokenType.String:
                return new SourceScalar(reader.GetString(), ScalarKind.String, line, column);
            case JsonTokenType.Number:
                return new SourceScalar(Encoding.UTF8.GetString(reader.ValueSpan), ScalarKind.Number, line, column);
            case JsonTokenType.True:
                return new SourceScalar("true", ScalarKind.Boolean, line, column);
            case JsonTokenType.False:
                return new SourceScalar("false", ScalarKind.Boolean, line, column);
            default:
                return new SourceScalar(null, ScalarKind.Null, line, column);
        }
    }

    // System.Text.Json appends "LineNumber: 7 | BytePositionInLine: 20." and a path; we print our own position.
    private static string CleanMessage(string message)
    {
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        }

        var text = (cut >= 0 ? message[..cut] : message).Trim();
        return "not valid JSON: " + text.TrimEnd('.');
    }

    /// <summary>
    /// Turns byte offsets into line and column. Tokens arrive in order, so it scans forward once:
    /// the whole file costs one pass, not one pass per token.
    /// </summary>
    private ref struct PositionTracker(ReadOnlySpan<byte> text)
    {
        private readonly ReadOnlySpan<byte> _text = text;
        private int _offset;
        private int _line = 1;
        private int _column = 1;

        public (int Line, int Column) At(long offset)
        {
            var target = (int)Math.Min(offset, _text.Length);
            for (; _offset < target; _offset++)
            {
                var b = _text[_offset];
                if (b == (byte)'\n')
                {
                    _line++;
                    _column = 1;
                }
                else if ((b & 0xC0) != 0x80)
                {
                    // Count characters, not UTF-8 continuation bytes, so columns match what editors show.
                    _column++;
                }
            }

            return (_line, _column);
        }
    }
}
