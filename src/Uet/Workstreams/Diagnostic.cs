namespace Uet.Workstreams;

public enum DiagnosticSeverity
{
    Warning,
    Error,
}

/// <summary>
/// One finding of the loader. <see cref="Code"/> is stable (scripts match on it);
/// <see cref="Message"/> says what is wrong and what to do.
/// </summary>
public sealed record Diagnostic(DiagnosticSeverity Severity, string Code, string Message, SourceLocation Location)
{
    public bool IsError => Severity == DiagnosticSeverity.Error;

    public override string ToString() =>
        $"{Location}: {(IsError ? "error" : "warning")} {Code}: {Message}";
}

/// <summary>The stable diagnostic codes. Errors are UET0xx, warnings UET1xx.</summary>
public static class DiagnosticCodes
{
    public const string Unparsable = "UET001";
    public const string MissingId = "UET002";
    public const string MalformedId = "UET003";
    public const string DuplicateId = "UET004";
    public const string UnknownDependency = "UET005";
    public const string Cycle = "UET006";
    public const string InvalidScopePath = "UET007";
    public const string WrongType = "UET008";
    public const string DependsOnSkipped = "UET009";
    public const string UnknownKey = "UET101";
    public const string DuplicateDependency = "UET102";
    public const string DuplicateKey = "UET103";
}
