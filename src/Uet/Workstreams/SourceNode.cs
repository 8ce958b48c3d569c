namespace Uet.Workstreams;

/// <summary>
/// A parsed JSON or YAML value that remembers where it was written, so every error can name its line and column.
/// Both file formats are read into this one tree and bound by one binder.
/// </summary>
internal abstract record SourceNode(int Line, int Column);

internal enum ScalarKind
{
    String,
    Number,
    Boolean,
    Null,
}

internal sealed record SourceScalar(string? Text, ScalarKind Kind, int Line, int Column) : SourceNode(Line, Column)
{
    public string Describe() => Kind switch
    {
        ScalarKind.Null => "null",
        ScalarKind.String => $"the string '{Text}'",
        ScalarKind.Number => $"the number {Text}",
        _ => Text ?? "null",
    };
}

internal sealed record SourceSequence(IReadOnlyList<SourceNode> Items, int Line, int Column) : SourceNode(Line, Column);

internal readonly record struct SourceEntry(string Key, int Line, int Column, SourceNode Value);

internal sealed record SourceMapping(IReadOnlyList<SourceEntry> Entries, int Line, int Column) : SourceNode(Line, Column);

internal static class SourceNodeText
{
    public static string Describe(this SourceNode node) => node switch
    {
        SourceScalar s => s.Describe(),
        SourceSequence => "a list",
        SourceMapping => "an object",
        _ => "a value",
    };
}

/// <summary>Thrown by the readers when a file is not valid JSON/YAML; carries the 1-based position.</summary>
internal sealed class SourceSyntaxException(string message, int line, int column, Exception? inner = null) : Exception(message, inner)
{
    public int Line { get; } = line;

    public int Column { get; } = column;
}
