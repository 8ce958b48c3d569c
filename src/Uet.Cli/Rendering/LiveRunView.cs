using Spectre.Console;
using Spectre.Console.Rendering;
using Uet.Execution;

namespace Uet.Cli.Rendering;

/// <summary>
/// The live view of a run on a terminal: tasks by state, what each running task is doing and for how long, elapsed
/// time and an estimate of what remains (from the average finished task and the number of workers).
/// </summary>
internal sealed class LiveRunView(int total, int workers, TimeProvider clock)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (long Since, string What)> _running = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _finished = new(StringComparer.Ordinal);
    private readonly List<string> _recent = [];
    private readonly long _started = clock.GetTimestamp();
    private TimeSpan _finishedTime = TimeSpan.Zero;
    private int _finishedCount;

    public void Report(RunProgress progress)
    {
        lock (_gate)
        {
            switch (progress.Kind)
            {
                case "started":
                    _running[progress.WorkstreamId] = (clock.GetTimestamp(), progress.Message);
                    break;
                case "retry":
                    _running[progress.WorkstreamId] = (_running.GetValueOrDefault(progress.WorkstreamId).Since, "waiting to retry");
                    break;
                case "completed" or "failed" or "quarantined" or "rolled_back" or "blocked" or "cancelled":
                    if (_running.Remove(progress.WorkstreamId, out var run))
                    {
                        _finishedTime += clock.GetElapsedTime(run.Since);
                        _finishedCount++;
                    }

                    _finished[progress.Kind] = _finished.GetValueOrDefault(progress.Kind) + 1;
                    _recent.Add($"{progress.Kind} {progress.WorkstreamId}: {progress.Message.Split('\n')[0]}");
                    if (_recent.Count > 5)
                    {
                        _recent.RemoveAt(0);
                    }

                    break;
            }
        }
    }

    public IRenderable Render()
    {
        lock (_gate)
        {
            var done = _finished.Values.Sum();
            var elapsed = clock.GetElapsedTime(_started);
            var average = _finishedCount == 0 ? (TimeSpan?)null : _finishedTime / _finishedCount;
            var remaining = average is { } a ? a * Math.Ceiling((total - done) / (double)workers) : (TimeSpan?)null;
            var header = $"[bold]{done}/{total}[/] done  "
                + string.Join("  ", _finished.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Value} {f.Key}"))
                + $"  |  {_running.Count}/{workers} workers busy  |  elapsed {TimeText.Ago(elapsed)}"
                + (remaining is { } r ? $"  |  about {TimeText.Ago(r)} left" : string.Empty);
            var table = new Table().Border(TableBorder.Simple).AddColumns("Running", "For", "Doing");
            foreach (var (id, (since, what)) in _running.OrderBy(r => r.Value.Since))
            {
                table.AddRow(Markup.Escape(id), TimeText.Ago(clock.GetElapsedTime(since)), Markup.Escape(what));
            }

            var rows = new List<IRenderable> { new Markup(header), table };
            rows.AddRange(_recent.Select(line => new Markup("[grey]" + Markup.Escape(line) + "[/]")));
            return new Rows(rows);
        }
    }
}
