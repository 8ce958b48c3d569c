using Uet.Git;

namespace Uet.Integration;

/// <summary>What <see cref="FastForward.IntoAsync"/> did.</summary>
/// <param name="Moved">Whether the branch now points at the results.</param>
/// <param name="Message">What happened, or why nothing did (naming the branch, the commits or the worktree).</param>
public sealed record MergeResult(bool Moved, string Message);

/// <summary>
/// Moves a target branch (<c>--merge-into</c>) to a run's results, by fast-forward only. A branch that has moved
/// since (its commit is not an ancestor of the results) is left alone. A branch checked out in a worktree (the user's
/// own included) is moved through that worktree, files and branch together, and only when it is clean: a checked-out
/// branch's ref is never moved behind its worktree's back.
/// </summary>
public static class FastForward
{
    public static async Task<MergeResult> IntoAsync(string repository, string branch, string results, CancellationToken cancellationToken)
    {
        var target = await GitCli.RunAsync(repository, ["rev-parse", "--verify", "--quiet", $"refs/heads/{branch}^{{commit}}"], cancellationToken).ConfigureAwait(false);
        if (target.ExitCode != 0)
        {
            return new MergeResult(false, $"there is no branch '{branch}' to merge into");
        }

        var current = target.StandardOutput.Trim();
        if (current == results)
        {
            return new MergeResult(true, $"{branch} already points at the results");
        }

        if (!await GitRepository.IsAncestorAsync(repository, current, results, cancellationToken).ConfigureAwait(false))
        {
            return new MergeResult(false, $"{branch} has moved ({current[..12]} is not part of the results), so it cannot be fast-forwarded; merge the results by hand");
        }

        if (await WorktreeOfAsync(repository, branch, cancellationToken).ConfigureAwait(false) is { } worktree)
        {
            var status = await GitCli.OutputAsync(worktree, ["status", "--porcelain", "--untracked-files=no"], cancellationToken).ConfigureAwait(false);
            if (status.Length > 0)
            {
                return new MergeResult(false, $"{branch} is checked out in {worktree}, which has uncommitted changes; commit or stash them and run: git -C {worktree} merge --ff-only {results[..12]}");
            }

            var merge = await GitCli.RunAsync(worktree, ["-c", "core.hooksPath=/dev/null", "merge", "--ff-only", "--quiet", results], cancellationToken).ConfigureAwait(false);
            return merge.ExitCode == 0
                ? new MergeResult(true, $"{branch} fast-forwarded to {results[..12]} in its worktree {worktree}")
                : new MergeResult(false, $"{branch} is checked out in {worktree} and git would not fast-forward it there: {merge.StandardError.Trim()}");
        }

        // Not checked out anywhere: move the ref, only if it still is where it was a moment ago.
        var update = await GitCli.RunAsync(repository, ["update-ref", $"refs/heads/{branch}", results, current], cancellationToken).ConfigureAwait(false);
        return update.ExitCode == 0
            ? new MergeResult(true, $"{branch} fast-forwarded to {results[..12]}")
            : new MergeResult(false, $"{branch} moved while uet was merging: {update.StandardError.Trim()}");
    }

    private static async Task<string?> WorktreeOfAsync(string repository, string branch, CancellationToken cancellationToken)
    {
        var list = await GitCli.OutputAsync(repository, ["worktree", "list", "--porcelain"], cancellationToken).ConfigureAwait(false);
        string? path = null;
        foreach (var line in list.Split('\n'))
        {
            if (line.StartsWith("worktree ", StringComparison.Ordinal))
            {
                path = line["worktree ".Length..];
            }
            else if (line == $"branch refs/heads/{branch}")
            {
                return path;
            }
        }

        return null;
    }
}
