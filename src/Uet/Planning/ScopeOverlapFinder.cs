using Uet.Workstreams;

namespace Uet.Planning;

/// <summary>
/// Finds pairs of workstreams whose scopes (files_scope and files_create) can touch the same file.
/// A path also covers everything under it (<c>src/utils</c> may be a folder), <c>*</c>/<c>?</c> match within a
/// segment and <c>**</c> across segments. The check is conservative: "may overlap" is reported as overlap.
/// </summary>
internal static class ScopeOverlapFinder
{
    private readonly record struct Entry(int Owner, string Pattern, string[] Segments, int LiteralCount);

    public static (List<ScopeOverlap> Overlaps, bool Truncated) Find(IReadOnlyList<Workstream> members, int max)
    {
        var entries = new List<Entry>();
        for (var i = 0; i < members.Count; i++)
        {
            var start = entries.Count;
            AddEntries(entries, start, i, members[i].FilesScope);
            AddEntries(entries, start, i, members[i].FilesCreate);
        }

        // Two scopes can only overlap if the shorter literal prefix is a prefix of the longer one, so each entry
        // only needs the entries filed under one of its own prefixes. Buckets are keyed by a hash of the prefix
        // (no string per prefix); a collision only adds a candidate, which Intersect then rejects.
        var byPrefix = new Dictionary<int, List<int>>();
        for (var e = 0; e < entries.Count; e++)
        {
            var key = PrefixHash(entries[e].Segments, entries[e].LiteralCount);
            if (!byPrefix.TryGetValue(key, out var list))
            {
                byPrefix[key] = list = [];
            }

            list.Add(e);
        }

        var found = new HashSet<(int, int)>();
        var overlaps = new List<ScopeOverlap>();
        for (var e = 0; e < entries.Count; e++)
        {
            var entry = entries[e];
            for (var k = 0; k <= entry.LiteralCount; k++)
            {
                if (!byPrefix.TryGetValue(PrefixHash(entry.Segments, k), out var candidates))
                {
                    continue;
                }

                foreach (var c in candidates)
                {
                    var other = entries[c];
                    if (other.Owner == entry.Owner || other.LiteralCount != k)
                    {
                        continue;
                    }

                    var pair = entry.Owner < other.Owner ? (entry.Owner, other.Owner) : (other.Owner, entry.Owner);
                    if (found.Contains(pair) || !Intersect(entry.Segments, other.Segments))
                    {
                        continue;
                    }

                    if (overlaps.Count >= max)
                    {
                        return (Sorted(overlaps), true);
                    }

                    found.Add(pair);
                    var (a, b) = string.CompareOrdinal(members[entry.Owner].Id, members[other.Owner].Id) < 0 ? (entry, other) : (other, entry);
                    overlaps.Add(new ScopeOverlap(members[a.Owner].Id, members[b.Owner].Id, a.Pattern, b.Pattern));
                }
            }
        }

        return (Sorted(overlaps), false);
    }

    // An owner's entries are the tail of the list from ownerStart; the same path in files_scope and files_create counts once.
    private static void AddEntries(List<Entry> entries, int ownerStart, int owner, IReadOnlyList<string> patterns)
    {
        foreach (var pattern in patterns)
        {
            if (entries.FindIndex(ownerStart, e => e.Pattern == pattern) >= 0)
            {
                continue;
            }

            var segments = Normalize(pattern);
            var literal = 0;
            while (literal < segments.Length && !IsWild(segments[literal]))
            {
                literal++;
            }

            entries.Add(new Entry(owner, pattern, segments, literal));
        }
    }

    private static int PrefixHash(string[] segments, int count)
    {
        var hash = new HashCode();
        for (var i = 0; i < count; i++)
        {
            hash.Add(segments[i], StringComparer.Ordinal);
        }

        hash.Add(count);
        return hash.ToHashCode();
    }

    private static List<ScopeOverlap> Sorted(List<ScopeOverlap> overlaps)
    {
        overlaps.Sort((x, y) =>
        {
            var c = string.CompareOrdinal(x.A, y.A);
            return c != 0 ? c : string.CompareOrdinal(x.B, y.B);
        });
        return overlaps;
    }

    internal static string[] Normalize(string pattern)
    {
        var path = pattern.Replace('\\', '/');
        while (path.StartsWith("./", StringComparison.Ordinal))
        {
            path = path[2..];
        }

        return path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".").ToArray();
    }

    /// <summary>True when some file could be in both scopes.</summary>
    internal static bool Intersect(string[] a, string[] b)
    {
        var n = Math.Min(a.Length, b.Length);
        for (var i = 0; i < n; i++)
        {
            if (a[i] == "**" || b[i] == "**")
            {
                return true;
            }

            if (!SegmentsIntersect(a[i], b[i]))
            {
                return false;
            }
        }

        // The shorter one is a folder (or a file) that covers everything below it.
        return true;
    }

    private static bool SegmentsIntersect(string a, string b)
    {
        var wildA = IsWild(a);
        var wildB = IsWild(b);
        if (!wildA && !wildB)
        {
            return string.Equals(a, b, StringComparison.Ordinal);
        }

        if (wildA != wildB)
        {
            return wildA ? Glob.IsMatch(a, b) : Glob.IsMatch(b, a);
        }

        // Both are patterns: they can share a name unless their fixed starts or ends disagree.
        var prefixA = a[..a.IndexOfAny(['*', '?'])];
        var prefixB = b[..b.IndexOfAny(['*', '?'])];
        var suffixA = a[(a.LastIndexOfAny(['*', '?']) + 1)..];
        var suffixB = b[(b.LastIndexOfAny(['*', '?']) + 1)..];
        return (prefixA.StartsWith(prefixB, StringComparison.Ordinal) || prefixB.StartsWith(prefixA, StringComparison.Ordinal))
            && (suffixA.EndsWith(suffixB, StringComparison.Ordinal) || suffixB.EndsWith(suffixA, StringComparison.Ordinal));
    }

    private static bool IsWild(string segment) => segment.AsSpan().IndexOfAny('*', '?') >= 0;
}
