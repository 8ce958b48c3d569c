namespace Uet.Config;

/// <summary>
/// A YAML value uet does not interpret itself (<c>execution.tool_config</c>, <c>state_machines</c>),
/// kept as written so the component that owns it can read it.
/// </summary>
public abstract record ConfigValue;

/// <summary>
/// A scalar as its text; <see cref="Value"/> is null for a YAML null (<c>~</c>, <c>null</c>, nothing).
/// Quoted and plain scalars are not distinguished: the owner decides how to read the text.
/// </summary>
public sealed record ConfigScalar(string? Value) : ConfigValue;

/// <summary>A YAML sequence.</summary>
public sealed record ConfigSequence(ValueList<ConfigValue> Items) : ConfigValue;

/// <summary>A YAML mapping with string keys.</summary>
public sealed record ConfigMapping(ValueMap<ConfigValue> Entries) : ConfigValue
{
    public static ConfigMapping Empty { get; } = new(ValueMap.Empty<ConfigValue>());
}
