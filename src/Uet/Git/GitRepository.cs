namespace Uet.Git;

/// <summary>One changed path of a patch, as git reports it (renames keep both names).</summary>
/// <param name="Status">A added, M modified, D deleted, R renamed, C copied, T type changed.</param>
/// <param name="Path">The path after the change.</param>
/// <param name="OldPath">The path before a rename or copy.</param>
/// <param name="LinesAdded">Lines added; null for a binary file.</param>
/// <param name="LinesRemoved">Lines removed; null for a binary file.</param>
/// <param name="Binary">Whether git treats the file as binary.</param>
/// <param name="NewMode">The file mode after the change (120000 is a symlink); null when deleted.</param>
/// <param name="NewBlob">The blob id after the change (what a symlink points to is its content); null when deleted.</param>
public sealed record ChangedFile(char Status, string Path, string? OldPath, int? LinesAdded, int? LinesRemoved, bool Binary, string? NewMode, string? NewBlob = null);

/// <summary>
/// The git operations a run needs, each a plain git command line on one repository or worktree. None of them touches
/// the user's working tree, index or checked-out branch: everything happens on uet's branches in uet's worktrees.
/// </summary>
public static class GitRepository
{
    // Commits made by uet carry an identity even where the user has none configured (CI machines), and uet's own git
    // calls in its worktrees run none of the user's hooks and need no signing agent.
    private static readonly string[] Identity = ["-c", "user.name=uet", "-c", "user.email=uet@localhost", "-c", "commit.gpgsign=false"];
    private static readonly string[] NoHooks = ["-c", "core.hooksPath=/dev/null"];

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
        await GitCli.OutputAsync(repository, detach ? [.. NoHooks, "worktree", "add", "--quiet", "--detach", path, reference] : [.. NoHooks, "worktree", "add", "--quiet", path, reference], cancellationToken)
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
        // Ignored files (build outputs) stay out, as they would for a person running git add.
        await GitCli.OutputAsync(worktree, ["add", "--all", "--", "."], cancellationToken).ConfigureAwait(false);
        await GitCli.OutputAsync(worktree, ["diff", "--cached", "--binary", "--full-index", "-M", "--no-color", "--no-ext-diff", $"--output={patchFile}", baseCommit], cancellationToken)
            .ConfigureAwait(false);
        var raw = await GitCli.OutputAsync(worktree, ["diff", "--cached", "-M", "--raw", "-z", "--no-abbrev", baseCommit], cancellationToken).ConfigureAwait(false);
        var numstat = await GitCli.OutputAsync(worktree, ["diff", "--cached", "-M", "--numstat", "-z", baseCommit], cancellationToken).ConfigureAwait(false);
        return GitDiffParser.Parse(raw, numstat);
    }

    /// <summary>
    /// Applies a patch (the exact bytes given, through stdin) to a worktree's files and index, three-way where the
    /// context moved. When it does not apply the worktree is reset to its HEAD and git's words (naming the
    /// conflicting files) are returned.
    /// </summary>
    public static async Task<(bool Applied, string Message)> ApplyAsync(string worktree, byte[] patch, CancellationToken cancellationToken)
    {
        var apply = await GitCli.RunAsync(worktree, [.. NoHooks, "apply", "--index", "--3way", "--binary", "--whitespace=nowarn", "-"], cancellationToken, patch).ConfigureAwait(false);
        if (apply.ExitCode == 0)
        {
            return (true, apply.StandardError.Trim());
        }

        await ResetAsync(worktree, cancellationToken).ConfigureAwait(false);
        return (false, apply.StandardError.Trim());
    }

    /// <summary>Commits what is staged; returns the commit, or null with git's words. The message goes in on stdin: any length.</summary>
    public static async Task<(string? Commit, string Message)> CommitAsync(string worktree, string message, CancellationToken cancellationToken)
    {
        // --allow-empty: a patch whose change is already on the branch (another workstream made the same edit) still
        // gets its one commit with its trailers, which is how a resume finds what was integrated.
        var commit = await GitCli.RunAsync(worktree, [.. NoHooks, .. Identity, "commit", "--quiet", "--no-verify", "--allow-empty", "--file=-"], cancellationToken, System.Text.Encoding.UTF8.GetBytes(message)).ConfigureAwait(false);
        if (commit.ExitCode != 0)
        {
            return (null, (commit.StandardError + " " + commit.StandardOutput).Trim());
        }

        return (await GitCli.OutputAsync(worktree, ["rev-parse", "HEAD"], cancellationToken).ConfigureAwait(false), string.Empty);
    }

    /// <summary>Back to <paramref name="commit"/> (default HEAD): files, index, HEAD, and anything untracked a validator left behind.</summary>
    public static async Task ResetAsync(string worktree, CancellationToken cancellationToken, string commit = "HEAD")
    {
        await GitCli.RunAsync(worktree, [.. NoHooks, "reset", "--quiet", "--hard", commit], cancellationToken).ConfigureAwait(false);
        await GitCli.RunAsync(worktree, ["clean", "-fdq"], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The content of a blob as text (a symlink's target).</summary>
    public static Task<string> BlobTextAsync(string repository, string blob, CancellationToken cancellationToken) =>
        GitCli.OutputAsync(repository, ["cat-file", "blob", blob], cancellationToken);

    /// <summary>Branches and tags with the commit each points to.</summary>
    public static async Task<Dictionary<string, string>> RefsAsync(string repository, CancellationToken cancellationToken)
    {
        var output = await GitCli.OutputAsync(repository, ["for-each-ref", "--format=%(refname) %(objectname)", "refs/heads", "refs/tags"], cancellationToken).ConfigureAwait(false);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', 2))
            .ToDictionary(parts => parts[0], parts => parts[1], StringComparer.Ordinal);
    }

    /// <summary>
    /// Puts branches and tags back as they were in <paramref name="before"/>, except those <paramref name="ours"/>
    /// accepts: a tool in a worktree shares the repository's refs and must not leave its branches in, or move, the
    /// user's. Returns what was put back.
    /// </summary>
    /// <remarks>
    /// Only changes the tool can be shown to have made are undone: a branch or tag now pointing at a commit of the
    /// tool's own (in its worktree's history, and not in the history it started from). The user's commits, branches
    /// and tags made meanwhile in their own checkout point elsewhere and are left alone.
    /// </remarks>
    public static async Task<IReadOnlyList<string>> RestoreRefsAsync(
        string repository,
        Dictionary<string, string> before,
        Func<string, bool> ours,
        string worktree,
        string startedFrom,
        CancellationToken cancellationToken)
    {
        var after = await RefsAsync(repository, cancellationToken).ConfigureAwait(false);
        var restored = new List<string>();
        var changed = after.Where(r => !ours(r.Key) && (!before.TryGetValue(r.Key, out var old) || old != r.Value)).ToList();
        if (changed.Count == 0 && before.Keys.All(k => ours(k) || after.ContainsKey(k)))
        {
            return restored;
        }

        var toolHead = (await GitCli.RunAsync(worktree, ["rev-parse", "--verify", "--quiet", "HEAD"], cancellationToken).ConfigureAwait(false)).StandardOutput.Trim();
        async Task<bool> IsAncestor(string commit, string of) => of.Length > 0 && await IsAncestorAsync(repository, commit, of, cancellationToken).ConfigureAwait(false);

        foreach (var (name, sha) in changed)
        {
            if (!await IsAncestor(sha, toolHead).ConfigureAwait(false) || await IsAncestor(sha, startedFrom).ConfigureAwait(false))
            {
                continue; // not the tool's commit: the user's own work, left alone
            }

            var result = before.TryGetValue(name, out var old)
                ? await GitCli.RunAsync(repository, ["update-ref", name, old, sha], cancellationToken).ConfigureAwait(false)
                : await GitCli.RunAsync(repository, ["update-ref", "-d", name, sha], cancellationToken).ConfigureAwait(false);
            if (result.ExitCode == 0)
            {
                restored.Add(before.ContainsKey(name) ? $"{name} moved back to {old![..12]}" : $"{name} (created by the tool) deleted");
            }
        }

        // A deleted branch or tag is put back whoever deleted it: resurrecting one is recoverable, losing one is not.
        foreach (var (name, old) in before.Where(r => !ours(r.Key) && !after.ContainsKey(r.Key)))
        {
            if ((await GitCli.RunAsync(repository, ["update-ref", name, old, ""], cancellationToken).ConfigureAwait(false)).ExitCode == 0)
            {
                restored.Add($"{name} (deleted by the tool) restored");
            }
        }

        return restored;
    }

    /// <summary>Whether <paramref name="commit"/> is <paramref name="of"/> or one of its ancestors (a commit or a ref).</summary>
    public static async Task<bool> IsAncestorAsync(string repository, string commit, string of, CancellationToken cancellationToken) =>
        (await GitCli.RunAsync(repository, ["merge-base", "--is-ancestor", commit, of], cancellationToken).ConfigureAwait(false)).ExitCode == 0;

    public static Task<string> CurrentBranchAsync(string repository, CancellationToken cancellationToken) =>
        GitCli.OutputAsync(repository, ["symbolic-ref", "--quiet", "--short", "HEAD"], cancellationToken);
}
