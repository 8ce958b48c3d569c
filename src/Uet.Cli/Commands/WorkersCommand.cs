using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using Uet.Execution;
using Uet.State;
using Uet.Cli.Rendering;
using Uet.Workstreams;

namespace Uet.Cli.Commands;

/// <summary><c>uet workers spawn N | list | drain | expire</c>: the worker pool recorded in the state database.</summary>
internal static class WorkersCommand
{
    private static readonly TimeSpan DefaultLease = TimeSpan.FromSeconds(60);

    public static Command Create(CliOutput output)
    {
        var command = new Command("workers", "Spawn, list, drain or expire workers in the state database.");
        command.Subcommands.Add(Spawn(output));
        command.Subcommands.Add(List(output));
        command.Subcommands.Add(Drain(output));
        command.Subcommands.Add(Expire(output));
        return command;
    }

    private static Option<string> LeaseOption() => new("--lease")
    {
        Description = "How long a worker counts as alive after its last heartbeat (e.g. 60s, 5m).",
        DefaultValueFactory = _ => "60s",
    };

    private static TimeSpan ParseLease(string text) =>
        DurationText.TryParse(text, out var lease) && lease > TimeSpan.Zero
            ? lease
            : throw UsageException.InvalidOption("--lease", $"expected a duration such as 60s or 5m, got '{text}'");

    private static Command Spawn(CliOutput output)
    {
        var state = new StateOptions();
        var count = new Argument<int>("count") { Description = "How many workers to spawn." };
        var lease = LeaseOption();
        var command = new Command("spawn", "Spawn N workers (SPAWNING -> IDLE), each with a lease renewed by heartbeats.") { count, lease };
        state.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var n = parse.GetValue(count);
            if (n is < 1 or > 10_000)
            {
                throw UsageException.InvalidOption("count", $"must be between 1 and 10000, got {n}");
            }

            await using var store = await state.OpenAsync(parse, cancellationToken).ConfigureAwait(false);
            var pool = new WorkerPool(store, TimeProvider.System, ParseLease(parse.GetValue(lease)!));
            var ids = await pool.SpawnAsync(n, null, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(state.Json))
            {
                output.Out.WriteLine(JsonSerializer.Serialize(new { spawned = ids }));
            }
            else
            {
                output.Console.MarkupLine($"spawned {ids.Count} workers: {Markup.Escape(string.Join(", ", ids))}");
            }

            return UetApp.Ok;
        });
        return command;
    }

    private static Command List(CliOutput output)
    {
        var state = new StateOptions();
        var command = new Command("list", "List the workers: state, task, heartbeat and lease.");
        state.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var store = await state.OpenAsync(parse, cancellationToken).ConfigureAwait(false);
            var workers = await store.ListWorkersAsync(cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(state.Json))
            {
                output.WriteJson(stream => StateJson.WriteWorkers(workers, stream));
                return UetApp.Ok;
            }

            var now = TimeProvider.System.GetUtcNow();
            var table = new Table().AddColumns("Worker", "State", "Task", "Host/pid", "Last heartbeat", "Lease");
            foreach (var w in workers)
            {
                var lease = w.LeaseExpiresAt is not { } until ? "-"
                    : w.State is StateMachines.Worker.Terminated ? "-"
                    : until < now ? $"[red]expired {TimeText.Ago(now - until)} ago[/]" : $"{TimeText.Ago(until - now)} left";
                table.AddRow(w.WorkerId, w.State, Markup.Escape(w.CurrentTaskId ?? "-"), Markup.Escape($"{w.Host}/{w.Pid}"), TimeText.Time(w.HeartbeatAt), lease);
            }

            output.Console.Write(table);
            output.Console.MarkupLine(string.Join(", ", workers.GroupBy(w => w.State).Select(g => $"{g.Count()} {g.Key}")) is { Length: > 0 } summary
                ? summary
                : "no workers (spawn some with 'uet workers spawn N')");
            return UetApp.Ok;
        });
        return command;
    }

    private static Command Drain(CliOutput output)
    {
        var state = new StateOptions();
        var command = new Command("drain", "Stop taking work: idle workers terminate now, busy ones when their task ends.");
        state.AddTo(command, json: false);
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var store = await state.OpenAsync(parse, cancellationToken).ConfigureAwait(false);
            var drained = await new WorkerPool(store, TimeProvider.System, DefaultLease).DrainAsync(cancellationToken).ConfigureAwait(false);
            output.Console.MarkupLine($"{drained} workers asked to drain");
            return UetApp.Ok;
        });
        return command;
    }

    private static Command Expire(CliOutput output)
    {
        var state = new StateOptions();
        var command = new Command("expire", "Terminate workers whose lease ran out (dead) and put their tasks back to ready.");
        state.AddTo(command, json: false);
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var store = await state.OpenAsync(parse, cancellationToken).ConfigureAwait(false);
            var expired = await new WorkerPool(store, TimeProvider.System, DefaultLease).ExpireLeasesAsync(cancellationToken).ConfigureAwait(false);
            foreach (var w in expired)
            {
                output.Console.MarkupLine(Markup.Escape($"{w.WorkerId}: last heartbeat {TimeText.Time(w.LastHeartbeat)}; terminated"
                    + (w.RequeuedTaskId is { } task ? $", task {task} back to ready" : string.Empty)));
            }

            output.Console.MarkupLine($"{expired.Count} workers with an expired lease");
            return UetApp.Ok;
        });
        return command;
    }
}
