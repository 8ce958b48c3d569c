namespace Uet.Planning;

/// <summary>The workstreams cannot be planned: a cycle, an unknown dependency, a duplicate id.</summary>
public sealed class PlanException : UetException
{
    private PlanException(string message)
        : base(message)
    {
    }

    public override int ExitCode => 1;

    public static PlanException Cycles(IEnumerable<IReadOnlyList<string>> cycles) =>
        new("the workstreams form dependency cycles, so no order exists: "
            + string.Join("; ", cycles.Select(c => string.Join(" -> ", c)))
            + ". Remove one dependency of each cycle.");

    public static PlanException UnknownDependency(string id, string missing) =>
        new($"{id} depends on '{missing}', which is not among the workstreams being planned. Run 'uet validate' to see every problem.");

    public static PlanException DuplicateId(string id) =>
        new($"the id '{id}' is used twice. Run 'uet validate' to see both places.");
}
