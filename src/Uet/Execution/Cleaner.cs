using Uet.Git;
using Uet.State;

namespace Uet.Execution;

/// <summary>What <see cref="Cleaner.CleanAsync"/> removed, or would remove, and what it kept and why.</summary>
public sealed record CleanReport(IReadOnlyList<string> Removed, IReadOnlyList<string> Kept);

/// <summary>
/// Removes what crashed runs left behind: their worktrees under <c>isolation.worktree_dir</c> and git's bookkeeping of
/// them. The live run's folder (the one holding the run lock with a lease still running) is never touched.
/// </summary>
public static class Cleaner
{
    /// <summary>Removes one run's worktrees (before that run resumes).</summary>
    public static async Task CleanRunAsync(string repository, string worktreeDir, string runId, CancellationToken cancellationToken)
    {
        var runFolder = Path.Combine(repository, worktreeDir, runId);
        if (Directory.Exists(runFolder))
        {
            foreach (var worktree in Directory.EnumerateDirectories(runFolder))
            {
                await GitRepository.RemoveWorktreeAsync(repository, worktree, cancellationToken).ConfigureAwait(false);
            }

            Directory.Delete(runFolder, recursive: true);
        }

        await GitCli.RunAsync(repository, ["worktree", "prune"], cancellationToken).ConfigureAwait(false);
    }

    public static async Task<CleanReport> CleanAsync(string repository, string worktreeDir, StateStore? store, TimeProvider clock, bool dryRun, CancellationToken cancellationToken)
    {
        var removed = new List<string>();
        var kept = new List<string>();
        var root = Path.Combine(repository, worktreeDir);
        var live = store is null ? null : await store.GetRunLockAsync(cancellationToken).ConfigureAwait(false);
        var liveRun = live is not null && live.LeaseExpiresAt > clock.GetUtcNow() ? live.RunId : null;
        if (Directory.Exists(root))
        {
            foreach (var runFolder in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
            {
                var run = Path.GetFileName(runFolder);
                if (run == liveRun)
                {
                    kept.Add($"{runFolder} (run {run} is live)");
                    continue;
                }

                foreach (var worktree in Directory.EnumerateDirectories(runFolder).Order(StringComparer.Ordinal))
                {
                    removed.Add(worktree);
                    if (!dryRun)
                    {
                        await GitRepository.RemoveWorktreeAsync(repository, worktree, cancellationToken).ConfigureAwait(false);
                    }
                }

                removed.Add(runFolder);
                if (!dryRun && Directory.Exists(runFolder))
                {
                    Directory.Delete(runFolder, recursive: true);
                }
            }
        }

        if (!dryRun)
        {
            // Bookkeeping of worktrees whose folders are already gone.
            await GitCli.RunAsync(repository, ["worktree", "prune"], cancellationToken).ConfigureAwait(false);
        }

        return new CleanReport(removed, kept);
    }
}
