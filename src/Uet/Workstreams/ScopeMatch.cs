using Uet.Planning;

namespace Uet.Workstreams;

/// <summary>
/// Whether a changed file is inside a workstream's scope. A pattern covers itself and everything under it
/// (<c>src/utils</c> may be a folder); <c>*</c> and <c>?</c> match within a segment, <c>**</c> any number of segments.
/// </summary>
public static class ScopeMatch
{
    public static bool InScope(Workstream workstream, string path) =>
        workstream.FilesScope.Concat(workstream.FilesCreate).Any(pattern => Covers(pattern, path));

    /// <summary>
    /// Patterns are normalized (<c>./</c>, either slash); paths are git's, split on '/' only: a backslash in a file
    /// name is part of the name, never a way into another folder.
    /// </summary>
    public static bool Covers(string pattern, string path) =>
        Match(ScopeOverlapFinder.Normalize(pattern), 0, path.Split('/', StringSplitOptions.RemoveEmptyEntries), 0);

    private static bool Match(string[] pattern, int i, string[] path, int j)
    {
        if (i == pattern.Length)
        {
            return true;
        }

        if (pattern[i] == "**")
        {
            for (var k = j; k <= path.Length; k++)
            {
                if (Match(pattern, i + 1, path, k))
                {
                    return true;
                }
            }

            return false;
        }

        return j < path.Length && Glob.IsMatch(pattern[i], path[j]) && Match(pattern, i + 1, path, j + 1);
    }
}
