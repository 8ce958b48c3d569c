namespace Uet.State;

/// <summary>
/// Named crash points for tests that kill a process in the middle of a transaction (UET_FAULT=&lt;point&gt;):
/// the only way to prove that a state and its event can never be written apart. Inert unless the variable is set.
/// </summary>
public static class FaultInjection
{
    public const string AfterStateWritten = "after-state-written";

    /// <summary>A patch is committed on the integration branch and recorded, its task not yet completed.</summary>
    public const string AfterPatchCommitted = "after-patch-committed";

    private static readonly string? Armed = Environment.GetEnvironmentVariable("UET_FAULT");

    public static void Hit(string point)
    {
        if (Armed is not null && string.Equals(Armed, point, StringComparison.Ordinal))
        {
            Environment.FailFast($"UET_FAULT: crashing at {point}");
        }
    }
}
