namespace Uet.Execution;

/// <summary>A run that cannot start: the message lists every reason, and nothing was written.</summary>
public sealed class RunException : UetException
{
    private RunException(string message)
        : base(message)
    {
    }

    public override int ExitCode => 1;

    public static RunException CannotStart(IReadOnlyList<string> problems) =>
        new($"the run cannot start ({problems.Count} problem{(problems.Count == 1 ? string.Empty : "s")}):\n  " + string.Join("\n  ", problems));
}
