using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using Uet.Cli.Rendering;
using Uet.State;

namespace Uet.Cli.Commands;

/// <summary><c>uet status</c>: the live run, recent runs, task counts by state, workers, last events.</summary>
internal static class StatusCommand
{
    private const int RunsShown = 5;
    private const int EventsShown = 10;

    public static Command Create(CliOutput output)
    {
        var state = new StateOptions();
        var command = new Command("status", "Show what the state database holds now: live run, runs, tasks by state, workers, last events.");
        state.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var store = await state.OpenAsync(parse, cancellationToken).ConfigureAwait(false);
            var live = await store.GetRunLockAsync(cancellationToken).ConfigureAwait(false);
            var runs = await store.ListRunsAsync(RunsShown, cancellationToken).ConfigureAwait(false);
            var tasks = runs.Count == 0
                ? new Dictionary<string, int>()
                : await store.CountTasksByStateAsync(runs[0].RunId, cancellationToken).ConfigureAwait(false);
            var workers = await store.ListWorkersAsync(cancellationToken).ConfigureAwait(false);
            var events = await store.ReadEventsAsync(new EventQuery(Tail: EventsShown), cancellationToken).ConfigureAwait(false);
            var now = TimeProvider.System.GetUtcNow();

            if (parse.GetValue(state.Json))
            {
                output.WriteJson(stream => WriteJson(stream, store.Description, live, now, runs, tasks, workers, events));
                return UetApp.Ok;
            }

            var console = output.Console;
            console.MarkupLine($"[bold]State[/]: {Markup.Escape(store.Description)} (schema v{await store.GetSchemaVersionAsync(cancellationToken).ConfigureAwait(false)})");
            console.MarkupLine(live is null
                ? "No live run."
                : live.LeaseExpiresAt > now
                    ? $"[green]Live run[/] {Markup.Escape(live.RunId)}: pid {live.OwnerPid} on {Markup.Escape(live.OwnerHost)}, last heartbeat {TimeText.Ago(now - live.HeartbeatAt)} ago"
                    : $"[yellow]Stale run lock[/] {Markup.Escape(live.RunId)}: its lease expired {TimeText.Ago(now - live.LeaseExpiresAt)} ago (the process is gone; the next run takes over)");

            var liveId = live is not null && live.LeaseExpiresAt > now ? live.RunId : null;
            foreach (var interrupted in runs.Where(r => r.State == StateMachines.Run.Running && r.RunId != liveId))
            {
                console.MarkupLine($"[yellow]Interrupted run[/] {Markup.Escape(interrupted.RunId)}: not live; continue it with [bold]uet resume {Markup.Escape(interrupted.RunId)}[/]");
            }

            if (runs.Count == 0)
            {
                console.MarkupLine("No runs yet.");
            }
            else
            {
                var table = new Table().Title("Runs (newest first)").AddColumns("Run", "State", "Created", "Duration");
                foreach (var r in runs)
                {
                    table.AddRow(Markup.Escape(r.RunId), r.State, TimeText.Time(r.CreatedAt), r.DurationMs is { } ms ? TimeText.Ago(TimeSpan.FromMilliseconds(ms)) : "-");
                }

                console.Write(table);
                console.MarkupLine($"Tasks of {Markup.Escape(runs[0].RunId)}: "
                    + (tasks.Count == 0 ? "none" : string.Join(", ", StateMachines.States(EntityKind.Task).Where(tasks.ContainsKey).Select(s => $"{tasks[s]} {s}"))));
            }

            console.MarkupLine("Workers: " + (workers.Count == 0
                ? "none"
                : string.Join(", ", StateMachines.States(EntityKind.Worker)
                    .Select(s => (State: s, Count: workers.Count(w => w.State == s)))
                    .Where(x => x.Count > 0)
                    .Select(x => $"{x.Count} {x.State}"))));
            console.WriteLine();
            console.MarkupLine(events.Count == 0 ? "No events yet." : $"[bold]Last {events.Count} events[/]");
            foreach (var e in events)
            {
                output.Out.WriteLine("  " + EventText.Line(e));
            }

            return UetApp.Ok;
        });
        return command;
    }

    private static void WriteJson(
        Stream stream,
        string database,
        RunLockRecord? live,
        DateTimeOffset now,
        IReadOnlyList<RunRecord> runs,
        IReadOnlyDictionary<string, int> tasks,
        IReadOnlyList<WorkerRecord> workers,
        IReadOnlyList<StateEvent> events)
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("format", "uet.status/1");
        json.WriteString("database", database);
        if (live is null)
        {
            json.WriteNull("live_run");
        }
        else
        {
            json.WriteStartObject("live_run");
            json.WriteString("run_id", live.RunId);
            json.WriteString("owner_host", live.OwnerHost);
            json.WriteNumber("owner_pid", live.OwnerPid);
            StateJson.Time(json, "heartbeat_at", live.HeartbeatAt);
            StateJson.Time(json, "lease_expires_at", live.LeaseExpiresAt);
            json.WriteBoolean("stale", live.LeaseExpiresAt <= now);
            json.WriteEndObject();
        }

        json.WriteStartArray("runs");
        foreach (var r in runs)
        {
            json.WriteStartObject();
            json.WriteString("run_id", r.RunId);
            json.WriteString("state", r.State);
            StateJson.Time(json, "created_at", r.CreatedAt);
            StateJson.Time(json, "started_at", r.StartedAt);
            StateJson.Time(json, "completed_at", r.CompletedAt);
            if (r.DurationMs is { } ms)
            {
                json.WriteNumber("duration_ms", ms);
            }
            else
            {
                json.WriteNull("duration_ms");
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartObject("tasks_by_state");
        foreach (var (s, count) in tasks.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            json.WriteNumber(s, count);
        }

        json.WriteEndObject();
        json.WriteStartObject("workers_by_state");
        foreach (var g in workers.GroupBy(w => w.State).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            json.WriteNumber(g.Key, g.Count());
        }

        json.WriteEndObject();
        json.WriteStartArray("workers");
        foreach (var w in workers)
        {
            StateJson.Worker(json, w);
        }

        json.WriteEndArray();
        json.WriteStartArray("last_events");
        foreach (var e in events)
        {
            StateJson.Event(json, e);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
