using System.Text.Json.Nodes;
using Uet.Config;

namespace Uet.Workstreams;

/// <summary>One unit of work: a tool run in its own worktree whose change must stay inside its scope.</summary>
public sealed record Workstream
{
    public required string Id { get; init; }

    /// <summary>Where the workstream's object starts (its id is reported here).</summary>
    public required SourceLocation Location { get; init; }

    /// <summary>Ids this one needs first: <c>depends_on</c> and <c>dependencies.depends_on</c>, duplicates removed.</summary>
    public IReadOnlyList<DependencyRef> DependsOn { get; init; } = [];

    /// <summary>Ids that need this one first (<c>dependencies.blocks</c>): reverse edges.</summary>
    public IReadOnlyList<DependencyRef> Blocks { get; init; } = [];

    public IReadOnlyList<string> FilesScope { get; init; } = [];

    public IReadOnlyList<string> FilesCreate { get; init; } = [];

    public IReadOnlyList<string> Tasks { get; init; } = [];

    public string? Tool { get; init; }

    public IReadOnlyList<AcceptanceTest> AcceptanceTests { get; init; } = [];

    public IReadOnlyList<TestGate> TestGates { get; init; } = [];

    public CircuitBreakerSettings? CircuitBreaker { get; init; }

    /// <summary><c>false</c>: the workstream runs alone, with nothing else at the same time.</summary>
    public bool ParallelOk { get; init; } = true;

    /// <summary>Workstreams of one group never run at the same time.</summary>
    public string? ConflictGroup { get; init; }

    /// <summary>Argv for the <c>command</c> tool. Never a shell string.</summary>
    public IReadOnlyList<string>? Command { get; init; }

    public TimeSpan? Timeout { get; init; }

    /// <summary>Expected duration, for planning; null means the configured default.</summary>
    public TimeSpan? Estimate { get; init; }

    /// <summary>Known fields that uet keeps and shows (priority, kind, metadata, gate, doc_id, ...), as written.</summary>
    public IReadOnlyDictionary<string, JsonNode?> Attributes { get; init; } = EmptyNodes;

    /// <summary>Keys uet does not know; kept as written (and warned about).</summary>
    public IReadOnlyDictionary<string, JsonNode?> Extra { get; init; } = EmptyNodes;

    public string File => Location.File;

    internal static readonly IReadOnlyDictionary<string, JsonNode?> EmptyNodes = new Dictionary<string, JsonNode?>();
}

/// <summary>A dependency id and where it was written, so an unknown id is reported at its own line.</summary>
public readonly record struct DependencyRef(string Id, SourceLocation Location);

/// <summary>A string is a description for the prompt; <see cref="Run"/> is argv run in the worktree as a gate.</summary>
public sealed record AcceptanceTest(string? Description, IReadOnlyList<string>? Run);

public sealed record TestGate(ValidationGate Type, bool Required, bool Blocking);

public sealed record CircuitBreakerSettings(int? MaxAttempts, int? MaxErrorRepeats, int? OscillationThreshold);
