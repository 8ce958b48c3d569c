namespace Uet.Workstreams;

/// <summary>A file-name glob: <c>*</c>, <c>?</c> and one level of <c>{a,b}</c> alternatives (<c>ws-*.{json,yaml}</c>).</summary>
public sealed class FileNamePattern
{
    private readonly string[] _alternatives;

    public FileNamePattern(string pattern)
    {
        var open = pattern.IndexOf('{', StringComparison.Ordinal);
        var close = open >= 0 ? pattern.IndexOf('}', open) : -1;
        _alternatives = close > open
            ? pattern[(open + 1)..close].Split(',').Select(alt => pattern[..open] + alt + pattern[(close + 1)..]).ToArray()
            : [pattern];
    }

    public bool IsMatch(string name) => _alternatives.Any(p => Glob.IsMatch(p, name));
}

/// <summary>Glob matching of one path segment (no '/'): <c>*</c> any run of characters, <c>?</c> one character.</summary>
public static class Glob
{
    public static bool IsMatch(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, starP = -1, starT = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                starP = p++;
                starT = t;
            }
            else if (starP >= 0)
            {
                p = starP + 1;
                t = ++starT;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
