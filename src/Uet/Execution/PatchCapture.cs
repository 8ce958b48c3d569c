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

        var problems = new List<string>();
        foreach (var file in files)
        {
            problems.AddRange(Problems(workstream, file));
            if (file.NewMode == "120000" && file.NewBlob is { } blob)
            {
                // The target is read from the staged blob, not the working tree a leftover process could still change.
                var target = await GitRepository.BlobTextAsync(worktree, blob, cancellationToken).ConfigureAwait(false);
                if (Leaves(file.Path, target))
                {
                    problems.Add($"{file.Path} is a symlink to '{target}', outside the repository");
                }
            }
        }

        return problems.Count == 0
            ? new CapturedPatch(patchFile, sha, files, added, removed, PatchVerdict.Validated, null)
            : new CapturedPatch(patchFile, sha, files, added, removed, PatchVerdict.Quarantined, string.Join("; ", problems));
    }

    private static IEnumerable<string> Problems(Workstream workstream, ChangedFile file)
    {
        // A copy leaves its source as it was: only a rename changes (removes) its old path.
        foreach (var path in file.Status == 'R' ? new[] { file.Path, file.OldPath! } : [file.Path])
        {
            if (path.Contains('\uFFFD', StringComparison.Ordinal))
            {
                yield return $"{path} has a name that is not valid UTF-8";
            }
            else if (ScopePath.Problem(path) is { } escape)
            {
                yield return $"{path} {escape}";
            }
            else if (!ScopeMatch.InScope(workstream, path))
            {
                yield return $"{path} is outside files_scope/files_create";
            }
        }
    }

    private static bool Leaves(string linkPath, string target)
    {
        if (target.StartsWith('/') || target.StartsWith('\\') || (target.Length > 1 && target[1] == ':'))
        {
            return true;
        }

        var depth = linkPath.Split('/').Length - 1;
        foreach (var segment in target.Split('/'))
        {
            depth += segment switch
            {
                ".." => -1,
                "." or "" => 0,
                _ => 1,
            };
            if (depth < 0)
            {
                return true;
            }
        }

        return false;
    }
}
