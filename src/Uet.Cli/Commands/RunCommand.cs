using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using Uet.Cli.Rendering;
using Uet.Config;
using Uet.Execution;
using Uet.Git;
using Uet.Integration;
using Uet.State;
using Uet.State.Sqlite;
using Uet.Workstreams;
using Uet.Telemetry;

namespace Uet.Cli.Commands;

/// <summary><c>uet run</c>: execute the workstreams on N workers, each in its own worktree; results on <c>uet/&lt;run&gt;</c>.</summary>
internal static class RunCommand
{
    /// <summary>
    /// The end of a run or a resume: the report and its summary line, fast-forward the target branch when asked and the
    /// run completed, and the exit code (0 completed, 1 failed or not merged, 130 interrupted).
    /// </summary>
    internal static async Task<int> FinishAsync(CliOutput output, StateStore store, UetConfig config, string repository, string? target, RunSummary summary, TextWriter info)
    {
        await ReportCommand.WriteAfterRunAsync(store, config, repository, summary.RunId, info, output.Error).ConfigureAwait(false);
        if (target is not null)
        {
            if (summary.State != "completed")
            {
                await output.Error.WriteLineAsync($"uet: {target} was not moved: the run {summary.State}; the results so far are on {summary.IntegrationBranch}.").ConfigureAwait(false);
                return summary.State == "interrupted" ? UetApp.Cancelled : UetApp.InvalidInput;
            }

            var merged = await FastForward.IntoAsync(repository, target, summary.FinalCommit, CancellationToken.None).ConfigureAwait(false);
            (merged.Moved ? info : output.Error).WriteLine((merged.Moved ? "merged: " : "uet: not merged: ") + merged.Message);
            if (!merged.Moved)
            {
                return UetApp.InvalidInput;
            }
        }

        return summary.State switch
        {
            "completed" => UetApp.Ok,
            "interrupted" => UetApp.Cancelled,
            _ => UetApp.InvalidInput,
        };
    }

    public static Command Create(CliOutput output)
    {
        var common = new CommonOptions();
        var workers = new Option<int?>("--workers", "-w") { Description = "Tasks at the same time (default: execution.max_workers)." };
        var failFast = new Option<bool>("--fail-fast") { Description = "Stop dispatching after the first failed task." };
        var runId = new Option<string?>("--run-id") { Description = "Use this run id instead of a generated one." };
        var database = new Option<string?>("--db") { Description = "State database (default: execution.state_db)." };
        var mergeInto = new Option<string?>("--merge-into")
        {
            Description = "When the run completes, fast-forward this branch to the results (default: integration.merge_into). Never anything but a fast-forward.",
        };
        var fresh = new Option<bool>("--new")
        {
            Description = "Start a new run even if an earlier one did not finish (that one is cancelled). Without it, uet run continues an unfinished run of the same workstreams.",
        };
        var grace = new Option<string>("--grace")
        {
            Description = "After Ctrl+C, how long running tasks may finish before they are killed (e.g. 10s, 1m).",
            DefaultValueFactory = _ => "10s",
        };
        var command = new Command("run", "Run the workstreams: worktrees, tools, patches, integration branch uet/<run-id>. Ctrl+C drains.");
        common.AddTo(command);
        command.Options.Add(workers);
        command.Options.Add(failFast);
        command.Options.Add(runId);
        command.Options.Add(database);
        command.Options.Add(grace);
        command.Options.Add(fresh);
        command.Options.Add(mergeInto);
        command.Options.Add(common.Json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var workerCount = parse.GetValue(workers);
            if (workerCount is < 1 or > 256)
            {
                throw UsageException.InvalidOption("--workers", $"must be between 1 and 256, got {workerCount}");
            }

            if (!DurationText.TryParse(parse.GetValue(grace)!, out var drainGrace))
            {
                throw UsageException.InvalidOption("--grace", $"expected a duration such as 10s or 1m, got '{parse.GetValue(grace)}'");
            }

            var workspace = await Workspace.FindAsync(Directory.GetCurrentDirectory(), cancellationToken).ConfigureAwait(false);
            var config = common.LoadConfig(parse);
            var set = WorkstreamLoader.Load(common.Source(parse, config), parse.GetValue(common.SkipInvalid), cancellationToken);
            if (!set.IsUsable)
            {
                DiagnosticsView.Render(new CliOutput(output.Error, output.Error), set, errorsOnly: true);
                return UetApp.InvalidInput;
            }

            var json = parse.GetValue(common.Json);
            var dbPath = parse.GetValue(database) ?? Path.Combine(workspace.Root, config.Execution.StateDb);
            await using var store = await SqliteStateStore.OpenCurrentAsync(dbPath, TimeProvider.System, CancellationToken.None).ConfigureAwait(false);
            using var jsonLog = new JsonLinesLog(Path.Combine(workspace.Root, config.Execution.LogDir));
            var progress = new RunProgressView(json ? output.Error : output.Out);
            var configText = RecordedConfig.Read(common.ConfigFile(parse));
            var options = new RunOptions(workerCount ?? config.Execution.MaxWorkers, parse.GetValue(failFast), parse.GetValue(runId), DrainGrace: drainGrace)
            {
                ConfigText = configText,
            };

            // A run that did not finish (killed, crashed, Ctrl+C) is continued, not left behind: a new run would redo
            // its work from scratch on another branch.
            Func<RunExecutor, Task<RunSummary>> start = executor => executor.RunAsync(set.Workstreams, options, cancellationToken);
            var probe = new RunExecutor(workspace.Root, config, store, TimeProvider.System, Redactor.None, _ => { });
            if (await probe.FindUnfinishedAsync(set.Workstreams, options.RunId, CancellationToken.None).ConfigureAwait(false) is { } unfinished)
            {
                if (parse.GetValue(fresh))
                {
                    // Settled with the config it ran with: its branch and worktree folder may have been renamed since.
                    var recorded = await RecordedConfig.ForRunAsync(store, unfinished.RunId, config, configText, TextWriter.Null).ConfigureAwait(false);
                    await new RunExecutor(workspace.Root, recorded, store, TimeProvider.System, Redactor.None, _ => { })
                        .AbandonAsync(unfinished.RunId, CancellationToken.None).ConfigureAwait(false);
                    await output.Error.WriteLineAsync($"uet: run {unfinished.RunId} did not finish; cancelled it (its results so far stay on its branch) and starting a new run.").ConfigureAwait(false);
                }
                else if (options.RunId is { } named && named != unfinished.RunId)
                {
                    throw UsageException.InvalidOption("run",
                        $"run {unfinished.RunId} did not finish: 'uet resume {unfinished.RunId}' continues it; 'uet run --new --run-id {named}' cancels it and starts run {named}");
                }
                else if (!unfinished.SameWorkstreams)
                {
                    throw UsageException.InvalidOption("run",
                        $"run {unfinished.RunId} did not finish, and its workstreams differ from these: 'uet resume {unfinished.RunId}' continues it as it was recorded; 'uet run --new' cancels it and starts a new run");
                }
                else
                {
                    await output.Error.WriteLineAsync($"uet: run {unfinished.RunId} did not finish; continuing it ('uet run --new' starts a new run instead).").ConfigureAwait(false);
                    config = await RecordedConfig.ForRunAsync(store, unfinished.RunId, config, configText, output.Error).ConfigureAwait(false);
                    options = options with { Workers = workerCount ?? config.Execution.MaxWorkers };
                    var resumeOptions = options;
                    start = executor => executor.ResumeAsync(unfinished.RunId, resumeOptions, cancellationToken);
                }
            }

            // The branch to fast-forward at the end: of the config the run goes on with.
            var target = parse.GetValue(mergeInto) ?? config.Integration.MergeInto;
            if (target is not null
                && (await GitCli.RunAsync(workspace.Root, ["rev-parse", "--verify", "--quiet", $"refs/heads/{target}"], cancellationToken).ConfigureAwait(false)).ExitCode != 0)
            {
                throw UsageException.InvalidOption("--merge-into", $"there is no branch '{target}' in {workspace.Root}");
            }

            RunSummary summary;
            if (!json && output.Console.Profile.Capabilities.Interactive && output.Console.Profile.Capabilities.Ansi)
            {
                // On a terminal: a live view, redrawn a few times a second, instead of a line per event.
                var live = new LiveRunView(set.Workstreams.Count, options.Workers, TimeProvider.System);
                var executor = new RunExecutor(workspace.Root, config, store, TimeProvider.System, Redactor.FromEnvironment(), live.Report);
                summary = await output.Console.Live(live.Render()).StartAsync(async context =>
                {
                    var running = start(executor);
                    while (await Task.WhenAny(running, Task.Delay(250, CancellationToken.None)).ConfigureAwait(false) != running)
                    {
                        context.UpdateTarget(live.Render());
                    }

                    context.UpdateTarget(live.Render());
                    return await running.ConfigureAwait(false);
                }).ConfigureAwait(false);
            }
            else
            {
                var executor = new RunExecutor(workspace.Root, config, store, TimeProvider.System, Redactor.FromEnvironment(), progress.Report);
                summary = await start(executor).ConfigureAwait(false);
            }
            if (json)
            {
                output.Out.WriteLine(JsonSerializer.Serialize(
                    new
                    {
                        format = "uet.run/1",
                        run_id = summary.RunId,
                        state = summary.State,
                        integration_branch = summary.IntegrationBranch,
                        base_commit = summary.BaseCommit,
                        final_commit = summary.FinalCommit,
                        elapsed_seconds = Math.Round(summary.Elapsed.TotalSeconds, 3),
                        tasks = summary.Tasks.Select(t => new
                        {
                            workstream_id = t.WorkstreamId,
                            result = t.ResultName,
                            attempts = t.Attempts,
                            detail = t.Detail,
                            commit = t.Commit,
                        }),
                    },
                    new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                progress.Summary(summary);
            }

            return await FinishAsync(output, store, config, workspace.Root, target, summary, json ? output.Error : output.Out).ConfigureAwait(false);
        });
        return command;
    }
}
