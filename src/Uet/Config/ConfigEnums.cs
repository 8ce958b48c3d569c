namespace Uet.Config;

/// <summary><c>isolation.strategy</c>.</summary>
public enum IsolationStrategy
{
    /// <summary><c>worktree</c>: every task runs in its own git worktree.</summary>
    Worktree,

    /// <summary><c>none</c>: tasks run in the repository itself.</summary>
    None,
}

/// <summary><c>dag.topological_sort</c>; only Kahn's algorithm is supported.</summary>
public enum TopologicalSort
{
    /// <summary><c>kahn</c>.</summary>
    Kahn,
}

/// <summary>The <c>GATE_*</c> names used by <c>validation.validators[].gate</c> and workstream <c>test_gates</c>.</summary>
public enum ValidationGate
{
    /// <summary><c>GATE_LINT</c>.</summary>
    Lint,

    /// <summary><c>GATE_UNIT</c>.</summary>
    Unit,

    /// <summary><c>GATE_INTEGRATION</c>.</summary>
    Integration,

    /// <summary><c>GATE_SECURITY</c>.</summary>
    Security,
}
