namespace Uet.Workstreams;

/// <summary>The result of loading: the workstreams that can be planned, and everything found on the way.</summary>
/// <param name="Workstreams">Valid workstreams in file order. Empty when there are errors and invalid ones are not skipped.</param>
/// <param name="Diagnostics">Errors and warnings, sorted by file, line and column.</param>
/// <param name="Skipped">Files and workstreams left out, with the reason (with <c>--skip-invalid</c>, the rest still ran).</param>
/// <param name="FileCount">How many files were read.</param>
/// <param name="SkipInvalid">Whether invalid workstreams were skipped rather than failing the whole set.</param>
public sealed record WorkstreamSet(
    IReadOnlyList<Workstream> Workstreams,
    IReadOnlyList<Diagnostic> Diagnostics,
    IReadOnlyList<SkippedWorkstream> Skipped,
    int FileCount,
    bool SkipInvalid)
{
    public int ErrorCount => Diagnostics.Count(d => d.IsError);

    public int WarningCount => Diagnostics.Count(d => !d.IsError);

    /// <summary>True when the set can be planned: no errors, or errors skipped on request.</summary>
    public bool IsUsable => SkipInvalid || ErrorCount == 0;
}

/// <summary>A workstream (or a whole file, when <see cref="Id"/> is null) that was not loaded, and why.</summary>
public sealed record SkippedWorkstream(string? Id, SourceLocation Location, string Reason);
