using Uet.Config;
using Uet.Workstreams;

namespace Uet.Execution.Adapters;

/// <summary><c>tests</c>: the tool is the workstream's acceptance commands (<c>{"run": [argv]}</c> entries), run in order.</summary>
public sealed class TestsAdapter : ToolAdapter
{
    public override string Name => "tests";

    public override string? Problem(Workstream workstream, ConfigMapping toolConfig) =>
        workstream.AcceptanceTests.Any(t => t.Run is { Count: > 0 })
            ? null
            : $"{workstream.Id} uses the tests tool but has no acceptance test with \"run\" (an argv list such as [\"pytest\", \"-q\"])";

    /// <summary>Acceptance commands get the prompt file only when the workstream has tasks to tell.</summary>
    public override bool ReadsPrompt(Workstream workstream, ConfigMapping toolConfig) => workstream.Tasks.Count > 0;

    public override IReadOnlyList<ToolInvocation> Prepare(ToolContext context) =>
        context.Workstream.AcceptanceTests
            .Where(t => t.Run is { Count: > 0 })
            .Select(t => new ToolInvocation(t.Run!, StandardEnvironment(context)))
            .ToArray();
}
