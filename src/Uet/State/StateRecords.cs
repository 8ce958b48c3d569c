namespace Uet.State;

/// <summary>One row of <c>events</c>: a state change, or something else worth recording, with its time.</summary>
public sealed record StateEvent(
    long EventId,
    string? RunId,
    EntityKind Entity,
    string EntityId,
    string EventType,
    string? FromState,
    string? ToState,
    DateTimeOffset At,
    string? Data);

public sealed record RunRecord(string RunId, string State, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, long? DurationMs);

public sealed record WorkerRecord(
    string WorkerId,
    string? RunId,
    string State,
    string? CurrentTaskId,
    string? Host,
    int? Pid,
    DateTimeOffset CreatedAt,
    DateTimeOffset? HeartbeatAt,
    DateTimeOffset? LeaseExpiresAt,
    DateTimeOffset? TerminatedAt);

/// <summary>The run that holds a state database (one at a time), and until when its lease runs.</summary>
public sealed record RunLockRecord(string RunId, string OwnerHost, int OwnerPid, DateTimeOffset AcquiredAt, DateTimeOffset HeartbeatAt, DateTimeOffset LeaseExpiresAt);

/// <summary>Which events to read: newest <see cref="Tail"/> of them, or all after <see cref="AfterEventId"/>.</summary>
public sealed record EventQuery(string? RunId = null, string? EventType = null, long AfterEventId = 0, int? Tail = null, int Limit = 10_000);

/// <summary>A task of a run and its state.</summary>
public sealed record TaskRecord(string TaskId, string WorkstreamId, string State);

/// <summary>A patch that had not reached a final state, with the hash that identifies its commit.</summary>
public sealed record OpenPatch(string PatchId, string TaskId, string State, string? Sha256);

/// <summary>A task with its timings, attempts and worker, as a report reads it.</summary>
public sealed record TaskDetail(
    string TaskId,
    string WorkstreamId,
    string State,
    int Attempts,
    string? WorkerId,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    long? DurationMs);

/// <summary>One attempt of a task.</summary>
public sealed record StepRecord(
    string StepId,
    string TaskId,
    int Attempt,
    string State,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    long? DurationMs,
    int? ExitCode,
    ToolUsage? Usage = null);

/// <summary>A patch of the ledger: its hash, files (one "status path" line each) and line counts.</summary>
public sealed record PatchRecord(
    string PatchId,
    string TaskId,
    string State,
    string? Sha256,
    string? Path,
    IReadOnlyList<string> Files,
    int? LinesAdded,
    int? LinesRemoved,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);
