using System.CommandLine;
using Uet.Cli.Rendering;
using Uet.State;

namespace Uet.Cli.Commands;

/// <summary><c>uet events</c>: the event stream, newest last; <c>--follow</c> keeps printing new events.</summary>
internal static class EventsCommand
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    public static Command Create(CliOutput output)
    {
        var state = new StateOptions();
        var tail = new Option<int>("--tail", "-n") { Description = "Show the last N events (0 = all).", DefaultValueFactory = _ => 100 };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new events until Ctrl+C." };
        var run = new Option<string?>("--run") { Description = "Only events of this run." };
        var type = new Option<string?>("--type") { Description = "Only this event type (task.running) or kind (task)." };
        var command = new Command("events", "Print the event stream (one line, or one JSON object with --json, per event).") { tail, follow, run, type };
        state.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var n = parse.GetValue(tail);
            if (n < 0)
            {
                throw UsageException.InvalidOption("--tail", $"must be 0 or more, got {n}");
            }

            await using var store = await state.OpenAsync(parse, cancellationToken).ConfigureAwait(false);
            var json = parse.GetValue(state.Json);
            var query = new EventQuery(parse.GetValue(run), parse.GetValue(type), Tail: n == 0 ? null : n, Limit: int.MaxValue);
            var last = Print(await store.ReadEventsAsync(query, cancellationToken).ConfigureAwait(false), json, output, 0);
            while (parse.GetValue(follow))
            {
                await Task.Delay(PollInterval, TimeProvider.System, cancellationToken).ConfigureAwait(false);
                var next = await store.ReadEventsAsync(query with { Tail = null, AfterEventId = last, Limit = 10_000 }, cancellationToken).ConfigureAwait(false);
                last = Print(next, json, output, last);
            }

            return UetApp.Ok;
        });
        return command;
    }

    private static long Print(IReadOnlyList<StateEvent> events, bool json, CliOutput output, long last)
    {
        foreach (var e in events)
        {
            output.Out.WriteLine(json ? StateJson.EventLine(e) : EventText.Line(e));
            last = e.EventId;
        }

        output.Out.Flush();
        return last;
    }
}
