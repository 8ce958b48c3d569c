using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Uet.Workstreams;

/// <summary>
/// Turns one file's <see cref="SourceNode"/> tree into workstreams. Exact about what is wrong (each error names
/// its line and column), forgiving about what is merely unusual (unknown keys and duplicate dependencies are warnings).
/// </summary>
internal sealed partial class WorkstreamBinder
{
    /// <summary>Fields uet keeps and shows as written.</summary>
    internal static readonly string[] KeptFields =
    [
        "priority", "kind", "metadata", "gate", "openspec_change", "ccpm_issue", "doc_id", "max_cost_usd",
        "compensation_actions", "title", "description",
    ];

    internal static readonly string[] TypedFields =
    [
        "id", "depends_on", "dependencies", "files_scope", "files_create", "tasks", "tool", "acceptance_tests",
        "test_gates", "circuit_breaker", "parallel_ok", "conflict_group", "command", "timeout", "estimate",
    ];

    private static readonly HashSet<string> Kept = new(KeptFields, StringComparer.Ordinal);

    private readonly string _file;
    private readonly List<Diagnostic> _diagnostics;

    private WorkstreamBinder(string file, List<Diagnostic> diagnostics)
    {
        _file = file;
        _diagnostics = diagnostics;
    }

    [GeneratedRegex("^ws-[a-z0-9-]+$", RegexOptions.CultureInvariant)]
    internal static partial Regex IdPattern();

    /// <summary>Binds a file's root: one workstream object or an array of them.</summary>
    public static IReadOnlyList<BoundWorkstream> Bind(string file, SourceNode root, List<Diagnostic> diagnostics)
    {
        var binder = new WorkstreamBinder(file, diagnostics);
        switch (root)
        {
            case SourceMapping mapping:
                return [binder.BindOne(mapping)];
            case SourceSequence sequence:
                var result = new List<BoundWorkstream>(sequence.Items.Count);
                foreach (var item in sequence.Items)
                {
                    if (item is SourceMapping m)
                    {
                        result.Add(binder.BindOne(m));
                    }
                    else
                    {
                        var message = $"expected a workstream object in the array, got {item.Describe()}";
                        binder.Error(DiagnosticCodes.WrongType, item, message);
                        result.Add(new BoundWorkstream(null, null, binder.At(item), message));
                    }
                }

                return result;
            default:
                var rootMessage = $"expected a workstream object or an array of them, got {root.Describe()}";
                binder.Error(DiagnosticCodes.WrongType, root, rootMessage);
                return [new BoundWorkstream(null, null, binder.At(root), rootMessage)];
        }
    }

    private BoundWorkstream BindOne(SourceMapping mapping)
    {
        var diagnosticsAtStart = _diagnostics.Count;
        var location = At(mapping);
        var entries = UniqueEntries(mapping);

        string? id = null;
        var idEntry = entries.Find(e => e.Key == "id");
        if (idEntry.Value is null)
        {
            Error(DiagnosticCodes.MissingId, mapping, "missing required field 'id' (a unique name like \"ws-add-login\")");
        }
        else if (idEntry.Value is not SourceScalar { Kind: ScalarKind.String, Text: { } idText })
        {
            Error(DiagnosticCodes.MalformedId, idEntry.Value, $"'id' must be a string like \"ws-add-login\", got {idEntry.Value.Describe()}");
        }
        else if (!IdPattern().IsMatch(idText))
        {
            id = idText;
            Error(DiagnosticCodes.MalformedId, idEntry.Value, $"malformed id '{idText}': ids start with 'ws-' followed by lowercase letters, digits and '-'");
        }
        else
        {
            id = idText;
            location = At(idEntry.Value);
        }

        // Fields are gathered in locals and the record is built once: plans hold 100,000 of these.
        var dependsOn = new List<DependencyRef>();
        var blocks = new List<DependencyRef>();
        Dictionary<string, JsonNode?>? attributes = null;
        Dictionary<string, JsonNode?>? extra = null;
        IReadOnlyList<string> filesScope = [], filesCreate = [], tasks = [];
        IReadOnlyList<AcceptanceTest> acceptanceTests = [];
        IReadOnlyList<TestGate> testGates = [];
        IReadOnlyList<string>? command = null;
        string? tool = null, conflictGroup = null;
        CircuitBreakerSettings? circuitBreaker = null;
        var parallelOk = true;
        TimeSpan? timeout = null, estimate = null;

        foreach (var entry in entries)
        {
            var (key, value) = (entry.Key, entry.Value);
            switch (key)
            {
                case "id":
                    break;
                case "depends_on":
                    AddIds(dependsOn, value, "depends_on");
                    break;
                case "dependencies":
                    BindDependencies(value, dependsOn, blocks, ref extra);
                    break;
                case "files_scope":
                    filesScope = ScopePaths(value, key);
                    break;
                case "files_create":
                    filesCreate = ScopePaths(value, key);
                    break;
                case "tasks":
                    tasks = Strings(value, key, allowSingle: true);
                    break;
                case "tool":
                    tool = OptionalString(value, key);
                    break;
                case "acceptance_tests":
                    acceptanceTests = AcceptanceTests(value);
                    break;
                case "test_gates":
                    testGates = TestGates(value);
                    break;
                case "circuit_breaker":
                    circuitBreaker = CircuitBreaker(value);
                    break;
                case "parallel_ok":
                    parallelOk = Boolean(value, key) ?? true;
                    break;
                case "conflict_group":
                    conflictGroup = OptionalString(value, key);
                    break;
                case "command":
                    command = Argv(value, key);
                    break;
                case "timeout":
                    timeout = Duration(value, key);
                    break;
                case "estimate":
                    estimate = Duration(value, key);
                    break;
                default:
                    if (Kept.Contains(key))
                    {
                        (attributes ??= new(StringComparer.Ordinal))[key] = ToJson(value);
                    }
                    else
                    {
                        (extra ??= new(StringComparer.Ordinal))[key] = ToJson(value);
                        Warning(DiagnosticCodes.UnknownKey, entry.Line, entry.Column, $"unknown key '{key}' (kept as written; run 'uet schema' for the known fields)");
                    }

                    break;
            }
        }

        var ws = new Workstream
        {
            Id = id ?? string.Empty,
            Location = location,
            DependsOn = Deduplicate(dependsOn, id, "depends_on"),
            Blocks = Deduplicate(blocks, id, "blocks"),
            FilesScope = filesScope,
            FilesCreate = filesCreate,
            Tasks = tasks,
            Tool = tool,
            AcceptanceTests = acceptanceTests,
            TestGates = testGates,
            CircuitBreaker = circuitBreaker,
            ParallelOk = parallelOk,
            ConflictGroup = conflictGroup,
            Command = command,
            Timeout = timeout,
            Estimate = estimate,
            Attributes = attributes ?? Workstream.EmptyNodes,
            Extra = extra ?? Workstream.EmptyNodes,
        };

        var firstError = _diagnostics.Skip(diagnosticsAtStart).FirstOrDefault(d => d.IsError);
        return firstError is null
            ? new BoundWorkstream(ws, id, location, null)
            : new BoundWorkstream(null, id, location, firstError.Message);
    }

    // A repeated key: the last one is used and the earlier ones are dropped with a warning. Objects have a
    // dozen keys, so a scan beats a dictionary per object.
    private List<SourceEntry> UniqueEntries(SourceMapping mapping)
    {
        var all = mapping.Entries;
        var unique = new List<SourceEntry>(all.Count);
        for (var i = 0; i < all.Count; i++)
        {
            var repeatedLater = false;
            for (var j = i + 1; j < all.Count && !repeatedLater; j++)
            {
                repeatedLater = string.Equals(all[i].Key, all[j].Key, StringComparison.Ordinal);
            }

            if (repeatedLater)
            {
                continue;
            }

            for (var j = 0; j < i; j++)
            {
                if (string.Equals(all[i].Key, all[j].Key, StringComparison.Ordinal))
                {
                    Warning(DiagnosticCodes.DuplicateKey, all[i].Line, all[i].Column, $"key '{all[i].Key}' appears twice in this object; the last one is used");
                    break;
                }
            }

            unique.Add(all[i]);
        }

        return unique;
    }

    private void BindDependencies(SourceNode value, List<DependencyRef> dependsOn, List<DependencyRef> blocks, ref Dictionary<string, JsonNode?>? extra)
    {
        if (value is SourceScalar { Kind: ScalarKind.Null })
        {
            return;
        }

        if (value is not SourceMapping mapping)
        {
            Error(DiagnosticCodes.WrongType, value, $"'dependencies' must be an object with 'depends_on' and 'blocks' lists, got {value.Describe()}");
            return;
        }

        foreach (var entry in mapping.Entries)
        {
            switch (entry.Key)
            {
                case "depends_on":
                    AddIds(dependsOn, entry.Value, "dependencies.depends_on");
                    break;
                case "blocks":
                    AddIds(blocks, entry.Value, "dependencies.blocks");
                    break;
                default:
                    // Notes such as prerequisite_tools are part of real files: kept, not an error.
                    (extra ??= new(StringComparer.Ordinal))["dependencies." + entry.Key] = ToJson(entry.Value);
                    break;
            }
        }
    }

    private void AddIds(List<DependencyRef> target, SourceNode value, string field)
    {
        foreach (var item in StringNodes(value, field, allowSingle: false))
        {
            target.Add(new DependencyRef(item.Text!, At(item)));
        }
    }

    private List<DependencyRef> Deduplicate(List<DependencyRef> refs, string? id, string field)
    {
        if (refs.Count < 2)
        {
            return refs;
        }

        var seen = refs.Count > 16 ? new HashSet<string>(StringComparer.Ordinal) : null;
        var unique = new List<DependencyRef>(refs.Count);
        foreach (var r in refs)
        {
            if (seen?.Add(r.Id) ?? !unique.Exists(u => u.Id == r.Id))
            {
                unique.Add(r);
            }
            else
            {
                _diagnostics.Add(new Diagnostic(DiagnosticSeverity.Warning, DiagnosticCodes.DuplicateDependency,
                    $"{id ?? "this workstream"} lists '{r.Id}' more than once in {field}; counted once", r.Location));
            }
        }

        return unique;
    }

    internal SourceLocation At(SourceNode node) => new(_file, node.Line, node.Column);

    internal void Error(string code, SourceNode node, string message) =>
        _diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, code, message, At(node)));

    private void Warning(string code, int line, int column, string message) =>
        _diagnostics.Add(new Diagnostic(DiagnosticSeverity.Warning, code, message, new SourceLocation(_file, line, column)));

    internal static JsonNode? ToJson(SourceNode node) => node switch
    {
        SourceMapping m => new JsonObject(m.Entries
            .GroupBy(e => e.Key, StringComparer.Ordinal)
            .Select(g => KeyValuePair.Create(g.Key, ToJson(g.Last().Value)))),
        SourceSequence s => new JsonArray(s.Items.Select(ToJson).ToArray()),
        SourceScalar { Kind: ScalarKind.Null } => null,
        SourceScalar { Kind: ScalarKind.Boolean } b => JsonValue.Create(b.Text == "true"),
        SourceScalar { Kind: ScalarKind.Number } n when long.TryParse(n.Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
        SourceScalar { Kind: ScalarKind.Number } n when double.TryParse(n.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) => JsonValue.Create(d),
        SourceScalar s => JsonValue.Create(s.Text),
        _ => null,
    };
}

/// <summary>
/// One object of a file: <see cref="Workstream"/> when it bound without error; otherwise null, with the id
/// (when it could be read) so that dependents can say what they lost, and the first error as the reason.
/// </summary>
internal sealed record BoundWorkstream(Workstream? Workstream, string? Id, SourceLocation Location, string? Reason);
