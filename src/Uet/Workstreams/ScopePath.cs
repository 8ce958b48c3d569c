namespace Uet.Workstreams;

/// <summary>Scope paths are repository-relative; anything that could reach outside the repository or into git's own files is refused.</summary>
public static class ScopePath
{
    /// <summary>Null when the path is acceptable; otherwise what is wrong with it, as a sentence tail.</summary>
    public static string? Problem(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return "is empty";
        }

        if (path[0] is '/' or '\\' || (path.Length >= 2 && char.IsAsciiLetter(path[0]) && path[1] == ':'))
        {
            return "is absolute: scope paths are relative to the repository root";
        }

        foreach (var segment in path.Split('/', '\\'))
        {
            if (segment == "..")
            {
                return "contains '..': scope paths must stay inside the repository";
            }

            if (segment.Equals(".git", StringComparison.OrdinalIgnoreCase))
            {
                return "points into .git/: git's own files are never in scope";
            }
        }

        return null;
    }
}
