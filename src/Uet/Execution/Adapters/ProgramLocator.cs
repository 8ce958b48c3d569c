namespace Uet.Execution.Adapters;

/// <summary>Where a program is: an absolute path as given, or a name found on PATH, as the executor will find it.</summary>
public static class ProgramLocator
{
    public static string? Find(string program, string? searchPath = null)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return Path.IsPathRooted(program) && IsExecutableFile(program) ? program : null;
        }

        searchPath ??= Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return searchPath.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(IsExecutableFile);
    }

    /// <summary>A file anyone may execute: what a PATH search takes (as execvp does, skipping files it cannot run).</summary>
    public static bool IsExecutableFile(string path) =>
        File.Exists(path)
        && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0);
}
