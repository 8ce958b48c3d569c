using System.Globalization;
using Uet.Config;

namespace Uet.Workstreams;

/// <summary>Typed readers for the fields of a workstream; each reports a wrong type at the value's position.</summary>
internal sealed partial class WorkstreamBinder
{
    private List<SourceScalar> StringNodes(SourceNode value, string field, bool allowSingle)
    {
        switch (value)
        {
            case SourceScalar { Kind: ScalarKind.Null }:
                return [];
            case SourceScalar { Kind: ScalarKind.String } single when allowSingle:
                return [single];
            case SourceSequence sequence:
                var result = new List<SourceScalar>(sequence.Items.Count);
                foreach (var item in sequence.Items)
                {
                    if (item is SourceScalar { Kind: ScalarKind.String, Text: not null } s)
                    {
                        result.Add(s);
                    }
                    else
                    {
                        Error(DiagnosticCodes.WrongType, item, $"'{field}' entries must be strings, got {item.Describe()}");
                    }
                }

                return result;
            default:
                Error(DiagnosticCodes.WrongType, value, $"'{field}' must be a list of strings, got {value.Describe()}");
                return [];
        }
    }

    private IReadOnlyList<string> Strings(SourceNode value, string field, bool allowSingle) =>
        StringNodes(value, field, allowSingle).Select(s => s.Text!).ToArray();

    private string? OptionalString(SourceNode value, string field)
    {
        switch (value)
        {
            case SourceScalar { Kind: ScalarKind.Null }:
                return null;
            case SourceScalar { Kind: ScalarKind.String } s:
                return s.Text;
            default:
                Error(DiagnosticCodes.WrongType, value, $"'{field}' must be a string, got {value.Describe()}");
                return null;
        }
    }

    private bool? Boolean(SourceNode value, string field)
    {
        switch (value)
        {
            case SourceScalar { Kind: ScalarKind.Null }:
                return null;
            case SourceScalar { Kind: ScalarKind.Boolean } b:
                return b.Text == "true";
            default:
                Error(DiagnosticCodes.WrongType, value, $"'{field}' must be true or false, got {value.Describe()}");
                return null;
        }
    }

    private int? NonNegativeInt(SourceNode value, string field)
    {
        switch (value)
        {
            case SourceScalar { Kind: ScalarKind.Null }:
                return null;
            case SourceScalar { Kind: ScalarKind.Number } n
                when int.TryParse(n.Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) && i >= 0:
                return i;
            default:
                Error(DiagnosticCodes.WrongType, value, $"'{field}' must be a whole number of 0 or more, got {value.Describe()}");
                return null;
        }
    }

    private TimeSpan? Duration(SourceNode value, string field)
    {
        switch (value)
        {
            case SourceScalar { Kind: ScalarKind.Null }:
                return null;
            case SourceScalar { Kind: ScalarKind.Number or ScalarKind.String, Text: { } text } when DurationText.TryParse(text, out var d):
                return d;
            default:
                Error(DiagnosticCodes.WrongType, value, $"'{field}' must be a duration such as 90 (seconds), \"45s\", \"30m\" or \"1h30m\", got {value.Describe()}");
                return null;
        }
    }

    /// <summary>Commands are argv lists so that no untrusted string ever reaches a shell.</summary>
    private IReadOnlyList<string>? Argv(SourceNode value, string field)
    {
        switch (value)
        {
            case SourceScalar { Kind: ScalarKind.Null }:
                return null;
            case SourceScalar { Kind: ScalarKind.String } s:
                Error(DiagnosticCodes.WrongType, value, $"'{field}' must be a list of arguments such as [\"dotnet\", \"test\"], not the string '{s.Text}' (uet never runs commands through a shell)");
                return null;
            default:
                var argv = Strings(value, field, allowSingle: false);
                if (value is SourceSequence && argv.Count == 0)
                {
                    Error(DiagnosticCodes.WrongType, value, $"'{field}' must name a program to run: the list is empty");
                }

                return argv;
        }
    }

    private IReadOnlyList<string> ScopePaths(SourceNode value, string field)
    {
        var paths = StringNodes(value, field, allowSingle: false);
        foreach (var node in paths)
        {
            var problem = ScopePath.Problem(node.Text!);
            if (problem is not null)
            {
                Error(DiagnosticCodes.InvalidScopePath, node, $"{field} path '{node.Text}' {problem}");
            }
        }

        return paths.Select(p => p.Text!).ToArray();
    }

    private IReadOnlyList<AcceptanceTest> AcceptanceTests(SourceNode value)
    {
        if (value is SourceScalar { Kind: ScalarKind.Null })
        {
            return [];
        }

        if (value is not SourceSequence sequence)
        {
            Error(DiagnosticCodes.WrongType, value, $"'acceptance_tests' must be a list, got {value.Describe()}");
            return [];
        }

        var tests = new List<AcceptanceTest>(sequence.Items.Count);
        foreach (var item in sequence.Items)
        {
            switch (item)
            {
                case SourceScalar { Kind: ScalarKind.String, Text: { } text }:
                    tests.Add(new AcceptanceTest(text, null));
                    break;
                case SourceMapping mapping:
                    var run = mapping.Entries.LastOrDefault(e => e.Key == "run");
                    if (run.Value is null)
                    {
                        Error(DiagnosticCodes.WrongType, item, "an acceptance test object needs 'run': the argv of the command, such as [\"pytest\", \"-q\"]");
                        break;
                    }

                    var description = mapping.Entries.LastOrDefault(e => e.Key == "description").Value;
                    var argv = Argv(run.Value, "acceptance_tests.run");
                    tests.Add(new AcceptanceTest(description is null ? null : OptionalString(description, "acceptance_tests.description"), argv));
                    break;
                default:
                    Error(DiagnosticCodes.WrongType, item, $"acceptance tests are descriptions (strings) or {{\"run\": [argv]}} objects, got {item.Describe()}");
                    break;
            }
        }

        return tests;
    }

    private IReadOnlyList<TestGate> TestGates(SourceNode value)
    {
        if (value is SourceScalar { Kind: ScalarKind.Null })
        {
            return [];
        }

        if (value is not SourceSequence sequence)
        {
            Error(DiagnosticCodes.WrongType, value, $"'test_gates' must be a list of {{type, required, blocking}} objects, got {value.Describe()}");
            return [];
        }

        var gates = new List<TestGate>();
        foreach (var item in sequence.Items)
        {
            if (item is not SourceMapping mapping)
            {
                Error(DiagnosticCodes.WrongType, item, $"a test gate must be an object like {{\"type\": \"GATE_UNIT\"}}, got {item.Describe()}");
                continue;
            }

            ValidationGate? type = null;
            bool required = true, blocking = true;
            foreach (var entry in mapping.Entries)
            {
                switch (entry.Key)
                {
                    case "type":
                        type = OptionalString(entry.Value, "test_gates.type") switch
                        {
                            "GATE_LINT" => ValidationGate.Lint,
                            "GATE_UNIT" => ValidationGate.Unit,
                            "GATE_INTEGRATION" => ValidationGate.Integration,
                            "GATE_SECURITY" => ValidationGate.Security,
                            var other => BadGate(entry.Value, other),
                        };
                        break;
                    case "required":
                        required = Boolean(entry.Value, "test_gates.required") ?? true;
                        break;
                    case "blocking":
                        blocking = Boolean(entry.Value, "test_gates.blocking") ?? true;
                        break;
                    default:
                        Warning(DiagnosticCodes.UnknownKey, entry.Line, entry.Column, $"unknown key '{entry.Key}' in a test gate (ignored)");
                        break;
                }
            }

            if (type is null && !mapping.Entries.Any(e => e.Key == "type"))
            {
                Error(DiagnosticCodes.WrongType, item, "a test gate needs 'type': GATE_LINT, GATE_UNIT, GATE_INTEGRATION or GATE_SECURITY");
            }
            else if (type is { } t)
            {
                gates.Add(new TestGate(t, required, blocking));
            }
        }

        return gates;
    }

    private ValidationGate? BadGate(SourceNode node, string? text)
    {
        if (text is not null)
        {
            Error(DiagnosticCodes.WrongType, node, $"unknown gate type '{text}': use GATE_LINT, GATE_UNIT, GATE_INTEGRATION or GATE_SECURITY");
        }

        return null;
    }

    private CircuitBreakerSettings? CircuitBreaker(SourceNode value)
    {
        if (value is SourceScalar { Kind: ScalarKind.Null })
        {
            return null;
        }

        if (value is not SourceMapping mapping)
        {
            Error(DiagnosticCodes.WrongType, value, $"'circuit_breaker' must be an object, got {value.Describe()}");
            return null;
        }

        var settings = new CircuitBreakerSettings(null, null, null);
        foreach (var entry in mapping.Entries)
        {
            switch (entry.Key)
            {
                case "max_attempts":
                    settings = settings with { MaxAttempts = NonNegativeInt(entry.Value, "circuit_breaker.max_attempts") };
                    break;
                case "max_error_repeats":
                    settings = settings with { MaxErrorRepeats = NonNegativeInt(entry.Value, "circuit_breaker.max_error_repeats") };
                    break;
                case "oscillation_threshold":
                    settings = settings with { OscillationThreshold = NonNegativeInt(entry.Value, "circuit_breaker.oscillation_threshold") };
                    break;
                default:
                    Warning(DiagnosticCodes.UnknownKey, entry.Line, entry.Column, $"unknown key '{entry.Key}' in circuit_breaker (ignored)");
                    break;
            }
        }

        return settings;
    }
}
