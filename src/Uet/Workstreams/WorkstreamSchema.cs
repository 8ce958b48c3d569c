namespace Uet.Workstreams;

/// <summary>The JSON Schema (draft 2020-12) of the workstream format, as printed by <c>uet schema</c>.</summary>
public static class WorkstreamSchema
{
    public static string Text { get; } = Load();

    private static string Load()
    {
        using var stream = typeof(WorkstreamSchema).Assembly.GetManifestResourceStream("Uet.Workstreams.workstream.schema.json")
            ?? throw new InvalidOperationException("the workstream schema resource is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
