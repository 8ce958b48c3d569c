namespace Uet.Git;

/// <summary>One changed path of a patch, as git reports it (renames keep both names).</summary>
/// <param name="Status">A added, M modified, D deleted, R renamed, C copied, T type changed.</param>
/// <param name="Path">The path after the change.</param>
/// <param name="OldPath">The path before a rename or copy.</param>
/// <param name="LinesAdded">Lines added; null for a binary file.</param>
/// <param name="LinesRemoved">Lines removed; null for a binary file.</param>
/// <param name="Binary">Whether git treats the file as binary.</param>
/// <param name="NewMode">The file mode after the change (120000 is a symlink); null when deleted.</param>
public sealed record ChangedFile(char Status, string Path, string? OldPath, int? LinesAdded, int? LinesRemoved, bool Binary, string? NewMode);

/// <summary>
/// The git operations a run needs, each a plain git command line on one repository or worktree. None of them touches
/// the user's working tree, index or checked-out branch: everything happens on uet's branches in uet's worktrees.
/// </summary>
public static class GitRepository
{
    // Commits made by uet carry an identity even where the user has none configured (CI machines).
    private static readonly string[] Identity = ["-c", "user.name=uet", "-c", "user.email=uet@localhost"];

    public static async Task<string> HeadCommitAsync(string repository, CancellationToken cancellationToken)
    {
        var result = await GitCli.RunAsync(repository, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], cancellationToken).ConfigureAwait(false);
        return result.ExitCode == 0
            ? result.StandardOutput.Trim()
            : throw GitProcessException.NoCommit(repository);
    }

    public static Task<string> ResolveAsync(string repository, string reference, CancellationToken cancellationToken) =>
        GitCli.OutputAsync(repository, ["rev-parse", "--verify", reference + "^{commit}"], cancellationToken);

    public static Task CreateBranchAsync(string repository, string branch, string commit, CancellationToken cancellationToken) =>
        GitCli.OutputAsync(repository, ["branch", "--no-track", branch, commit], cancellationToken);

    /// <summary>A worktree at <paramref name="reference"/>: a branch to work on it, or a commit with <paramref name="detach"/>.</summary>
    public static async Task AddWorktreeAsync(string repository, string path, string reference, bool detach, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await GitCli.OutputAsync(repository, detach ? ["worktree", "add", "--quiet", "--detach", path, reference] : ["worktree", "add", "--quiet", path, reference], cancellationToken)
            .ConfigureAwait(false);
    }

    public static async Task RemoveWorktreeAsync(string repository, string path, CancellationToken cancellationToken)
    {
        var removed = await GitCli.RunAsync(repository, ["worktree", "remove", "--force", "--force", path], cancellationToken).ConfigureAwait(false);
        if (removed.ExitCode != 0)
        {
            // Only when git could not remove it: delete the folder and let prune drop its bookkeeping. Prune is never
            // run otherwise, since it could drop the bookkeeping of a worktree another task is creating.
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }

            await GitCli.RunAsync(repository, ["worktree", "prune"], cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stages everything in the worktree (in the worktree's own index) and writes the diff against
    /// <paramref name="baseCommit"/> to <paramref name="patchFile"/>: commits the tool made and uncommitted changes
    /// together, with binary files, renames and mode changes.
    /// </summary>
    public static async Task<IReadOnlyList<ChangedFile>> CaptureAsync(string worktree, string baseCommit, string patchFile, CancellationToken cancellationToken)
    {
        await GitCli.OutputAsync(worktree, ["add", "--all", "--force", "--", "."], cancellationToken).ConfigureAwait(false);
        await GitCli.OutputAsync(worktree, ["diff", "--cached", "--binary", "--full-index", "-M", "--no-color", "--no-ext-diff", $"--output={patchFile}", baseCommit], cancellationToken)
            .ConfigureAwait(false);
        var raw = await GitCli.OutputAsync(worktree, ["diff", "--cached", "-M", "--raw", "-z", "--no-abbrev", baseCommit], cancellationToken).ConfigureAwait(false);
        var numstat = await GitCli.OutputAsync(worktree, ["diff", "--cached", "-M", "--numstat", "-z", baseCommit], cancellationToken).ConfigureAwait(false);
        return GitDiffParser.Parse(raw, numstat);
    }

    /// <summary>Applies a patch in a worktree (files and index) and commits it; false, with git's words, when it does not apply.</summary>
    public static async Task<(bool Applied, string Message)> ApplyAndCommitAsync(string worktree, string patchFile, string message, CancellationToken cancellationToken)
    {
        var apply = await GitCli.RunAsync(worktree, ["apply", "--index", "--binary", "--whitespace=nowarn", patchFile], cancellationToken).ConfigureAwait(false);
        if (apply.ExitCode != 0)
        {
            return (false, apply.StandardError.Trim());
        }

        await GitCli.OutputAsync(worktree, [.. Identity, "commit", "--quiet", "--no-verify", "-m", message], cancellationToken).ConfigureAwait(false);
        return (true, await GitCli.OutputAsync(worktree, ["rev-parse", "HEAD"], cancellationToken).ConfigureAwait(false));
    }

    public static Task<string> CurrentBranchAsync(string repository, CancellationToken cancellationToken) =>
        GitCli.OutputAsync(repository, ["symbolic-ref", "--quiet", "--short", "HEAD"], cancellationToken);
}
