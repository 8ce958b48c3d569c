namespace Uet.Execution.Adapters;

/// <summary>Where a program is: an absolute path as given, or a name found on PATH, as the executor will find it.</summary>
public static class ProgramLocator
{
    /// <param name="program">A name to look up, or a path (absolute, to be taken as is).</param>
    /// <param name="searchPath">The PATH to search; null = uet's own.</param>
    /// <param name="workingDirectory">Where the program will run: relative PATH entries (and empty ones, which mean
    /// "here") are taken from there, as execvp in that folder would; null = uet's own folder.</param>
    public static string? Find(string program, string? searchPath = null, string? workingDirectory = null)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return Path.IsPathRooted(program) && IsExecutableFile(program) ? program : null;
        }

        searchPath ??= Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        var here = workingDirectory ?? Directory.GetCurrentDirectory();
        return searchPath.Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir.Length == 0 ? here : Path.GetFullPath(dir, here), program))
            .FirstOrDefault(IsExecutableFile);
    }

    /// <summary>A file anyone may execute: what a PATH search takes (as execvp does, skipping files it cannot run).</summary>
    public static bool IsExecutableFile(string path) =>
        File.Exists(path)
        && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0);
}
