using Uet.Execution;

namespace Uet.Cli.Rendering;

/// <summary>Plain progress lines (one per thing that happened) and the closing summary of a run.</summary>
internal sealed class RunProgressView(TextWriter writer)
{
    private readonly Lock _gate = new();

    public void Report(RunProgress progress)
    {
        if (progress.Kind == "progress")
        {
            return;
        }

        lock (_gate)
        {
            writer.WriteLine($"{progress.Kind,-11} {progress.WorkstreamId}  {progress.Message.Split('\n')[0]}");
            writer.Flush();
        }
    }

    public void Summary(RunSummary summary)
    {
        // The headline (state, time, speedup) is the report's one-line summary, printed after this by the command.
        writer.WriteLine();
        foreach (var group in summary.Tasks.GroupBy(t => t.ResultName).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            writer.WriteLine($"  {group.Count(),4} {group.Key}: {string.Join(", ", group.Select(t => t.WorkstreamId).Take(8))}{(group.Count() > 8 ? ", ..." : string.Empty)}");
        }

        writer.WriteLine($"results on branch {summary.IntegrationBranch} ({summary.BaseCommit[..12]} -> {summary.FinalCommit[..12]}); the run did not touch your checkout.");
        writer.WriteLine(summary.State == "interrupted"
            ? $"Interrupted: continue with 'uet resume {summary.RunId}'."
            : "See 'uet status' and 'uet events --run " + summary.RunId + "'.");
    }
}
