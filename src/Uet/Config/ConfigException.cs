namespace Uet.Config;

/// <summary>
/// <c>.uet/config.yaml</c> is wrong. <see cref="Errors"/> holds every problem found in one pass, each
/// as <c>file:line:col: key.path: what is wrong</c>, so the user can fix them all at once.
/// </summary>
public sealed class ConfigException : UetException
{
    private ConfigException(string message, IReadOnlyList<string> errors, Exception? inner)
        : base(message, inner)
    {
        Errors = errors;
    }

    public override int ExitCode => 1;

    /// <summary>The individual errors, in file order.</summary>
    public IReadOnlyList<string> Errors { get; }

    /// <summary>One or more errors found while reading <paramref name="sourceName"/>.</summary>
    public static ConfigException Invalid(string sourceName, IReadOnlyList<string> errors, Exception? inner = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(errors.Count);
        var copy = errors.ToArray();
        var message = copy.Length == 1
            ? copy[0]
            : $"{sourceName}: {copy.Length} errors:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", copy);
        return new ConfigException(message, copy, inner);
    }

    /// <summary>The file exists but cannot be read (permissions, a folder in its place).</summary>
    public static ConfigException Unreadable(string path, Exception inner) =>
        Invalid(path, [$"{path}: cannot read the config file: {inner.Message}"], inner);
}
