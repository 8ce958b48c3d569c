using System.Diagnostics;

namespace Uet.Git;

/// <summary>
/// Runs git through its command line (the tool users have; worktrees need it). Arguments go through
/// <see cref="ProcessStartInfo.ArgumentList"/>, never a shell, so no path or id can inject anything.
/// </summary>
public static class GitCli
{
    /// <summary>Runs git and returns its trimmed stdout; a non-zero exit throws with command, folder and stderr.</summary>
    public static async Task<string> OutputAsync(string workingDirectory, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var result = await RunAsync(workingDirectory, arguments, cancellationToken).ConfigureAwait(false);
        return result.ExitCode == 0 ? result.StandardOutput.TrimEnd('\n', '\r') : throw GitProcessException.Failed(result);
    }

    /// <summary>The git command in <paramref name="arguments"/>: the first one that is neither an option nor an option's value.</summary>
    internal static string? Subcommand(IReadOnlyList<string> arguments)
    {
        for (var i = 0; i < arguments.Count; i++)
        {
            if (arguments[i] is "-c" or "-C")
            {
                i++; // its value
            }
            else if (!arguments[i].StartsWith('-'))
            {
                return arguments[i];
            }
        }

        return null;
    }

    public static async Task<GitResult> RunAsync(string workingDirectory, IReadOnlyList<string> arguments, CancellationToken cancellationToken, byte[]? input = null)
    {
        var start = new ProcessStartInfo("git")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Messages are parsed in places; keep them in English whatever the user's locale.
        start.Environment["LC_ALL"] = "C";

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex) when (ex.NativeErrorCode == 7) // E2BIG
        {
            throw GitProcessException.TooLong(Subcommand(arguments), ex);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw GitProcessException.NotInstalled(ex);
        }

        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        if (input is not null)
        {
            await process.StandardInput.BaseStream.WriteAsync(input, cancellationToken).ConfigureAwait(false);
            process.StandardInput.Close();
        }
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new GitResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false), workingDirectory, arguments);
    }
}

public sealed record GitResult(int ExitCode, string StandardOutput, string StandardError, string WorkingDirectory, IReadOnlyList<string> Arguments);

/// <summary>git could not be run, or a git command failed: exit code, command line, folder and stderr.</summary>
public sealed class GitProcessException : UetException
{
    private GitProcessException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    public override int ExitCode => 1;

    public static GitProcessException Failed(GitResult result) =>
        new($"git {string.Join(' ', result.Arguments)} failed with exit code {result.ExitCode} in {result.WorkingDirectory}: {result.StandardError.Trim()}");

    public static GitProcessException NoCommit(string repository) =>
        new($"the repository at {repository} has no commit yet; uet starts its integration branch from HEAD. Make a first commit.");

    public static GitProcessException TooLong(string? command, Exception inner) =>
        new($"git {command} could not start: its command line is too long ({inner.Message})", inner);

    public static GitProcessException NotInstalled(Exception inner) =>
        new("git was not found on PATH. Install git (it is how uet makes worktrees and commits).", inner);
}
