using System.Security.Cryptography;
using Uet.Git;
using Uet.Workstreams;

namespace Uet.Execution;

public enum PatchVerdict
{
    /// <summary>Changes, all inside the scope.</summary>
    Validated,

    /// <summary>No change at all.</summary>
    Dropped,

    /// <summary>Something outside the scope, in .git/, or a symlink leaving the repository.</summary>
    Quarantined,
}

/// <summary>A captured change: the patch file in the ledger, its hash, its files, and whether it may be integrated.</summary>
public sealed record CapturedPatch(
    string File,
    string Sha256,
    IReadOnlyList<ChangedFile> Files,
    int LinesAdded,
    int LinesRemoved,
    PatchVerdict Verdict,
    string? Reason);

/// <summary>Turns a task's worktree into a patch and judges it against the workstream's declared scope.</summary>
public static class PatchCapture
{
    public static async Task<CapturedPatch> CaptureAsync(Workstream workstream, string worktree, string baseCommit, string patchFile, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(patchFile))!);
        var files = await GitRepository.CaptureAsync(worktree, baseCommit, patchFile, cancellationToken).ConfigureAwait(false);
        var bytes = await File.ReadAllBytesAsync(patchFile, cancellationToken).ConfigureAwait(false);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var added = files.Sum(f => f.LinesAdded ?? 0);
        var removed = files.Sum(f => f.LinesRemoved ?? 0);
        if (files.Count == 0)
        {
            return new CapturedPatch(patchFile, sha, files, 0, 0, PatchVerdict.Dropped, "no change");
        }

        var problems = files.SelectMany(f => Problems(workstream, worktree, f)).ToList();
        return problems.Count == 0
            ? new CapturedPatch(patchFile, sha, files, added, removed, PatchVerdict.Validated, null)
            : new CapturedPatch(patchFile, sha, files, added, removed, PatchVerdict.Quarantined, string.Join("; ", problems));
    }

    private static IEnumerable<string> Problems(Workstream workstream, string worktree, ChangedFile file)
    {
        foreach (var path in new[] { file.Path, file.OldPath }.OfType<string>())
        {
            if (ScopePath.Problem(path) is { } escape)
            {
                yield return $"{path} {escape}";
            }
            else if (!ScopeMatch.InScope(workstream, path))
            {
                yield return $"{path} is outside files_scope/files_create";
            }
        }

        if (file.NewMode == "120000" && SymlinkLeaves(worktree, file.Path) is { } target)
        {
            yield return $"{file.Path} is a symlink to '{target}', outside the repository";
        }
    }

    private static string? SymlinkLeaves(string worktree, string path)
    {
        var link = new FileInfo(Path.Combine(worktree, path));
        if (link.LinkTarget is not { } target)
        {
            return null;
        }

        var root = Path.GetFullPath(worktree) + Path.DirectorySeparatorChar;
        var resolved = Path.GetFullPath(Path.Combine(link.DirectoryName!, target));
        return Path.IsPathRooted(target) || !resolved.StartsWith(root, StringComparison.Ordinal) ? target : null;
    }
}
