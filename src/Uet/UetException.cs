namespace Uet;

/// <summary>
/// An error the user can act on: the message says what is wrong, where, and what to do.
/// The CLI catches these at its edge and maps <see cref="ExitCode"/> to the process exit code;
/// anything else escaping is a bug.
/// </summary>
public abstract class UetException : Exception
{
    private protected UetException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    /// <summary>1 = invalid input (files, config), 2 = usage error (arguments, environment).</summary>
    public abstract int ExitCode { get; }
}

/// <summary>The command line or the environment is wrong (bad option value, not a git repository, path not found).</summary>
public sealed class UsageException : UetException
{
    private UsageException(string message)
        : base(message)
    {
    }

    public override int ExitCode => 2;

    public static UsageException PathNotFound(string path) =>
        new($"'{path}' does not exist. Pass a workstream folder or file that exists, or set execution.workstream_dir in .uet/config.yaml.");

    public static UsageException NoWorkstreamFiles(IReadOnlyList<string> paths, string pattern) =>
        new($"no workstream files in {string.Join(", ", paths.Select(p => $"'{p}'"))} match '{pattern}'. Add files such as ws-example.json, or pass --pattern.");

    public static UsageException NotAGitRepository(string directory) =>
        new($"'{directory}' is not inside a git repository. Run 'git init' first, or run uet from inside your repository.");

    public static UsageException InvalidOption(string option, string problem) =>
        new($"{option}: {problem}");
}
