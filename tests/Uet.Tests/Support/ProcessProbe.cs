namespace Uet.Tests.Support;

internal static class ProcessProbe
{
    /// <summary>True when the process no longer runs: gone from /proc, or a zombie waiting to be reaped.</summary>
    public static bool IsGone(string pid) =>
        !Directory.Exists($"/proc/{pid}") || File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);

    public static bool IsGone(int pid) => IsGone(pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
