using System.CommandLine;
using Uet.Cli.Rendering;
using Uet.Execution;
using Uet.Git;
using Uet.State;
using Uet.State.Sqlite;
using Uet.Telemetry;

namespace Uet.Cli.Commands;

/// <summary><c>uet resume [RUN]</c>: carry on with a run that did not end, after a crash, a kill or Ctrl+C.</summary>
internal static class ResumeCommand
{
    public static Command Create(CliOutput output)
    {
        var state = new StateOptions();
        var run = new Argument<string?>("run") { Description = "The run to resume (default: the newest unfinished one).", Arity = ArgumentArity.ZeroOrOne };
        var workers = new Option<int?>("--workers", "-w") { Description = "Workers (default: execution.max_workers)." };
        var mergeInto = new Option<string?>("--merge-into") { Description = "When the run completes, fast-forward this branch to the results (default: integration.merge_into)." };
        var command = new Command("resume", "Continue an interrupted run: reconcile its state with git, then run what is left. Nothing is applied twice.") { run, workers, mergeInto };
        state.AddTo(command, json: false);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var workspace = await Workspace.FindAsync(Directory.GetCurrentDirectory(), cancellationToken).ConfigureAwait(false);
            var config = state.LoadConfig(parse);
            await using var store = await SqliteStateStore.OpenCurrentAsync(state.DatabasePath(parse), TimeProvider.System, CancellationToken.None).ConfigureAwait(false);
            var runs = await store.ListRunsAsync(1000, CancellationToken.None).ConfigureAwait(false);
            var target = parse.GetValue(run) is { } id
                ? runs.FirstOrDefault(r => r.RunId == id) ?? throw StateException.NotFound(EntityKind.Run, id)
                : runs.FirstOrDefault(r => r.State == StateMachines.Run.Running)
                    ?? throw UsageException.InvalidOption("resume", "there is no unfinished run to resume (uet status lists the runs)");
            if (target.State != StateMachines.Run.Running)
            {
                throw UsageException.InvalidOption("resume", $"run {target.RunId} has ended ({target.State}); there is nothing to resume");
            }

            using var jsonLog = new JsonLinesLog(Path.Combine(workspace.Root, config.Execution.LogDir));
            var progress = new RunProgressView(output.Out);
            config = await RecordedConfig.ForRunAsync(store, target.RunId, config, RecordedConfig.Read(state.ConfigFile(parse)), output.Out).ConfigureAwait(false);
            var executor = new RunExecutor(workspace.Root, config, store, TimeProvider.System, Redactor.FromEnvironment(), progress.Report);
            var summary = await executor.ResumeAsync(target.RunId, new RunOptions(parse.GetValue(workers) ?? config.Execution.MaxWorkers), cancellationToken).ConfigureAwait(false);
            progress.Summary(summary);
            return await RunCommand.FinishAsync(output, store, config, workspace.Root, parse.GetValue(mergeInto) ?? config.Integration.MergeInto, summary, output.Out).ConfigureAwait(false);
        });
        return command;
    }
}
