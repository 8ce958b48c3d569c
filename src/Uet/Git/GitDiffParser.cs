namespace Uet.Git;

/// <summary>Reads <c>git diff --raw -z</c> and <c>--numstat -z</c> output into <see cref="ChangedFile"/>s.</summary>
internal static class GitDiffParser
{
    public static IReadOnlyList<ChangedFile> Parse(string raw, string numstat)
    {
        var stats = ParseNumstat(numstat);
        var files = new List<ChangedFile>();
        var fields = raw.Split('\0');
        for (var i = 0; i < fields.Length; i++)
        {
            var meta = fields[i];
            if (!meta.StartsWith(':'))
            {
                continue;
            }

            // ":100644 100644 <sha> <sha> M" then the path(s)
            var parts = meta[1..].Split(' ');
            var status = parts[4][0];
            var newMode = parts[1];
            var newBlob = parts[3];
            string path;
            string? oldPath = null;
            if (status is 'R' or 'C')
            {
                oldPath = fields[++i];
                path = fields[++i];
            }
            else
            {
                path = fields[++i];
            }

            stats.TryGetValue(path, out var stat);
            var deleted = newMode == "000000";
            files.Add(new ChangedFile(status, path, oldPath, stat.Added, stat.Removed, stat.Binary, deleted ? null : newMode, deleted ? null : newBlob));
        }

        return files;
    }

    private static Dictionary<string, (int? Added, int? Removed, bool Binary)> ParseNumstat(string numstat)
    {
        var result = new Dictionary<string, (int?, int?, bool)>(StringComparer.Ordinal);
        var fields = numstat.Split('\0');
        for (var i = 0; i < fields.Length; i++)
        {
            var field = fields[i];
            if (field.Length == 0)
            {
                continue;
            }

            // "added\tremoved\tpath" or, for a rename, "added\tremoved\t" then old and new paths as their own fields.
            // At most three parts: a path may itself hold a tab.
            var parts = field.Split('\t', 3);
            if (parts.Length < 3)
            {
                continue;
            }

            var binary = parts[0] == "-";
            int? added = binary ? null : int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
            int? removed = binary ? null : int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            var path = parts[2];
            if (path.Length == 0)
            {
                i += 2;
                path = fields[i];
            }

            result[path] = (added, removed, binary);
        }

        return result;
    }
}
