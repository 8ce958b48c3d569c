namespace Uet.State;

/// <summary>
/// The only legal transitions (DESIGN.md, "State machines"). Anything else is a bug and is refused by
/// <see cref="StateChanger"/>. States are stored as these exact strings.
/// </summary>
public static class StateMachines
{
    public static class Run
    {
        public const string Pending = "pending";
        public const string Running = "running";
        public const string Completed = "completed";
        public const string Failed = "failed";
        public const string Cancelled = "cancelled";
    }

    public static class Task
    {
        public const string Pending = "pending";
        public const string Ready = "ready";
        public const string Running = "running";
        public const string Completed = "completed";
        public const string Failed = "failed";
        public const string Blocked = "blocked";
    }

    public static class Step
    {
        public const string Pending = "pending";
        public const string Running = "running";
        public const string Completed = "completed";
        public const string Failed = "failed";
        public const string Skipped = "skipped";
    }

    public static class Worker
    {
        public const string Spawning = "SPAWNING";
        public const string Idle = "IDLE";
        public const string Busy = "BUSY";
        public const string Draining = "DRAINING";
        public const string Terminated = "TERMINATED";
    }

    public static class Patch
    {
        public const string Created = "created";
        public const string Validated = "validated";
        public const string Queued = "queued";
        public const string Applied = "applied";
        public const string Verified = "verified";
        public const string Committed = "committed";
        public const string Quarantined = "quarantined";
        public const string Dropped = "dropped";
        public const string ApplyFailed = "apply_failed";
        public const string RolledBack = "rolled_back";
    }

    private static readonly Dictionary<EntityKind, (string From, string To)[]> Transitions = new()
    {
        [EntityKind.Run] =
        [
            (Run.Pending, Run.Running), (Run.Running, Run.Completed), (Run.Running, Run.Failed), (Run.Running, Run.Cancelled),
        ],
        [EntityKind.Task] =
        [
            (Task.Pending, Task.Ready), (Task.Ready, Task.Running), (Task.Running, Task.Completed), (Task.Running, Task.Failed),
            (Task.Pending, Task.Blocked), (Task.Running, Task.Ready),
        ],
        [EntityKind.Step] =
        [
            (Step.Pending, Step.Running), (Step.Running, Step.Completed), (Step.Running, Step.Failed), (Step.Running, Step.Skipped),
        ],
        [EntityKind.Worker] =
        [
            (Worker.Spawning, Worker.Idle), (Worker.Idle, Worker.Busy), (Worker.Busy, Worker.Idle),
            (Worker.Idle, Worker.Draining), (Worker.Busy, Worker.Draining), (Worker.Draining, Worker.Terminated),
        ],
        [EntityKind.Patch] =
        [
            (Patch.Created, Patch.Validated), (Patch.Validated, Patch.Queued), (Patch.Queued, Patch.Applied),
            (Patch.Applied, Patch.Verified), (Patch.Verified, Patch.Committed), (Patch.Created, Patch.Quarantined),
            (Patch.Created, Patch.Dropped), (Patch.Queued, Patch.ApplyFailed), (Patch.Applied, Patch.RolledBack),
        ],
    };

    private static readonly Dictionary<EntityKind, string> Initial = new()
    {
        [EntityKind.Run] = Run.Pending,
        [EntityKind.Task] = Task.Pending,
        [EntityKind.Step] = Step.Pending,
        [EntityKind.Worker] = Worker.Spawning,
        [EntityKind.Patch] = Patch.Created,
    };

    /// <summary>Every legal (from, to) pair of a machine.</summary>
    public static IReadOnlyList<(string From, string To)> LegalTransitions(EntityKind kind) => Transitions[kind];

    /// <summary>Every state of a machine, initial first.</summary>
    public static IReadOnlyList<string> States(EntityKind kind) =>
        new[] { Initial[kind] }.Concat(Transitions[kind].SelectMany(t => new[] { t.From, t.To })).Distinct(StringComparer.Ordinal).ToArray();

    public static string InitialState(EntityKind kind) => Initial[kind];

    /// <summary>The states a machine may reach <paramref name="to"/> from.</summary>
    public static IReadOnlyList<string> LegalFroms(EntityKind kind, string to) =>
        Froms.GetOrAdd((kind, to), key => Transitions[key.Item1].Where(t => t.To == key.Item2).Select(t => t.From).ToArray());

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(EntityKind, string), string[]> Froms = new();

    public static bool IsLegal(EntityKind kind, string from, string to) =>
        Array.Exists(Transitions[kind], t => t.From == from && t.To == to);

    /// <summary>A state with no way out.</summary>
    public static bool IsFinal(EntityKind kind, string state) => !Array.Exists(Transitions[kind], t => t.From == state);
}
