namespace Uet.State;

/// <summary>The things whose state uet records; each has its own machine in <see cref="StateMachines"/>.</summary>
public enum EntityKind
{
    Run,
    Task,
    Step,
    Worker,
    Patch,
}

public static class EntityKindNames
{
    /// <summary>The lowercase name stored in <c>events.entity</c> and printed to users.</summary>
    public static string Name(this EntityKind kind) => kind switch
    {
        EntityKind.Run => "run",
        EntityKind.Task => "task",
        EntityKind.Step => "step",
        EntityKind.Worker => "worker",
        _ => "patch",
    };
}
