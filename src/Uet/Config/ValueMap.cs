using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Uet.Config;

/// <summary>
/// An immutable string-keyed map that keeps the file's key order for display but compares by
/// content, ignoring order (YAML mappings are unordered), so records holding it stay value-equal.
/// Keys compare ordinally: YAML keys are case-sensitive.
/// </summary>
public sealed class ValueMap<TValue> : IReadOnlyDictionary<string, TValue>, IEquatable<ValueMap<TValue>>
{
    private readonly KeyValuePair<string, TValue>[] _entries;
    private readonly Dictionary<string, TValue> _lookup;

    internal ValueMap(IEnumerable<KeyValuePair<string, TValue>> entries)
    {
        _entries = entries.ToArray();
        _lookup = new Dictionary<string, TValue>(_entries, StringComparer.Ordinal);
    }

    public int Count => _entries.Length;

    public IEnumerable<string> Keys => _entries.Select(e => e.Key);

    public IEnumerable<TValue> Values => _entries.Select(e => e.Value);

    public TValue this[string key] => _lookup[key];

    public bool ContainsKey(string key) => _lookup.ContainsKey(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out TValue value) => _lookup.TryGetValue(key, out value);

    public bool Equals(ValueMap<TValue>? other)
    {
        if (other is null || other.Count != Count)
        {
            return false;
        }

        var comparer = EqualityComparer<TValue>.Default;
        foreach (var (key, value) in _entries)
        {
            if (!other._lookup.TryGetValue(key, out var otherValue) || !comparer.Equals(value, otherValue))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as ValueMap<TValue>);

    // Order-insensitive to match Equals: sum of per-entry hashes.
    public override int GetHashCode()
    {
        var sum = 0;
        foreach (var (key, value) in _entries)
        {
            sum = unchecked(sum + HashCode.Combine(StringComparer.Ordinal.GetHashCode(key), value));
        }

        return sum;
    }

    public IEnumerator<KeyValuePair<string, TValue>> GetEnumerator() =>
        ((IEnumerable<KeyValuePair<string, TValue>>)_entries).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => "{" + string.Join(", ", _entries.Select(e => $"{e.Key}: {e.Value}")) + "}";
}

/// <summary>Factory for <see cref="ValueMap{TValue}"/>.</summary>
public static class ValueMap
{
    public static ValueMap<TValue> Empty<TValue>() => new([]);

    /// <exception cref="ArgumentException">Two entries have the same key.</exception>
    public static ValueMap<TValue> From<TValue>(IEnumerable<KeyValuePair<string, TValue>> entries) => new(entries);
}
