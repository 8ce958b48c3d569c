using System.CommandLine;
using Spectre.Console;
using Uet.Cli.Rendering;
using Uet.Config;
using Uet.Execution;
using Uet.Git;
using Uet.Planning;
using Uet.State.Sqlite;
using Uet.Workstreams;
using Uet.Telemetry;

namespace Uet.Cli.Commands;

/// <summary>
/// <c>uet demo</c>: the whole pipeline on the bundled example, in a folder of its own: a small shell project, 37
/// workstreams in 8 waves, a validator; one patch is rolled back by the validator, one is quarantined for leaving
/// its scope, and one workstream is blocked behind the rolled-back one. Nothing outside that folder is touched.
/// </summary>
internal static class DemoCommand
{
    private const string ResourcePrefix = "demo/";

    public static Command Create(CliOutput output)
    {
        var folder = new Option<string?>("--dir") { Description = "Where to put the demo (default: a new temporary folder)." };
        var workers = new Option<int>("--workers", "-w") { Description = "Workers.", DefaultValueFactory = _ => 3 };
        var command = new Command("demo", "Run the whole pipeline on a bundled example project in a temporary folder, and show where everything is.") { folder, workers };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var root = parse.GetValue(folder) is { } given ? Path.GetFullPath(given) : Directory.CreateTempSubdirectory("uet-demo-").FullName;
            if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
            {
                throw UsageException.InvalidOption("--dir", $"{root} is not empty; the demo needs an empty or new folder");
            }

            var console = output.Console;
            console.MarkupLine($"[bold]uet demo[/] in {Markup.Escape(root)}");
            Extract(root);
            var none = CancellationToken.None;
            await GitCli.OutputAsync(root, ["init", "--quiet", "-b", "main"], none).ConfigureAwait(false);
            await GitCli.OutputAsync(root, ["add", "--all"], none).ConfigureAwait(false);
            await GitCli.OutputAsync(root, ["-c", "user.name=uet demo", "-c", "user.email=demo@localhost", "commit", "--quiet", "-m", "The demo project"], none).ConfigureAwait(false);
            console.MarkupLine("1. a git repository with the project committed on [bold]main[/]");

            await ProjectInitializer.InitAsync(root, TimeProvider.System, none).ConfigureAwait(false);
            console.MarkupLine("2. [bold]uet init[/]: .uet/config.yaml (with a validator: tests/run.sh), .state/uet.db, logs/uet/, .worktrees/");

            var config = ConfigLoader.LoadFile(Path.Combine(root, ProjectInitializer.ConfigRelativePath));
            var set = WorkstreamLoader.Load(new WorkstreamSource([Path.Combine(root, config.Execution.WorkstreamDir)], config.Execution.WorkstreamPattern), skipInvalid: false, none);
            var workerCount = Math.Max(1, parse.GetValue(workers));
            var plan = Planner.Create(set.Workstreams, new PlanOptions(workerCount, config.Execution.DefaultEstimate));
            console.MarkupLine($"3. [bold]uet plan[/]: {plan.Workstreams.Count} workstreams in {plan.Waves.Count} waves; critical path {plan.CriticalPath.Workstreams.Count} long; "
                + $"estimated {DurationText.Format(plan.Estimates.Dispatch)} on {workerCount} workers (sequential {DurationText.Format(plan.Estimates.Sequential)})");

            console.MarkupLine($"4. [bold]uet run --workers {workerCount}[/]:");
            await using var store = await SqliteStateStore.OpenCurrentAsync(Path.Combine(root, config.Execution.StateDb), TimeProvider.System, none).ConfigureAwait(false);
            using var jsonLog = new JsonLinesLog(Path.Combine(root, config.Execution.LogDir));
            var progress = new RunProgressView(output.Out);
            var executor = new RunExecutor(root, config, store, TimeProvider.System, Redactor.FromEnvironment(), progress.Report);
            var summary = await executor.RunAsync(set.Workstreams, new RunOptions(workerCount, RunId: "r-demo"), cancellationToken).ConfigureAwait(false);
            progress.Summary(summary);
            await ReportCommand.WriteAfterRunAsync(store, config, root, summary.RunId, output.Out, output.Error).ConfigureAwait(false);

            console.WriteLine();
            console.MarkupLine("[bold]What happened, as designed[/]: ws-cmd-debug left a TODO, the validator rejected it and it was rolled back "
                + "(ws-docs-debug, which needs it, is blocked); ws-cleanup-tmp wrote outside its scope and was quarantined; everything else is committed.");
            console.MarkupLine("[bold]Where everything is[/]:");
            console.MarkupLine($"  results      git -C {Markup.Escape(root)} log --oneline {Markup.Escape(summary.IntegrationBranch)}");
            console.MarkupLine($"  state        {Markup.Escape(Path.Combine(root, config.Execution.StateDb))}   (cd there and run: uet status, uet events --run r-demo)");
            console.MarkupLine($"  logs         {Markup.Escape(Path.Combine(root, config.Execution.LogDir, summary.RunId))}");
            console.MarkupLine($"  patches      {Markup.Escape(Path.Combine(root, ".uet", "ledger", summary.RunId))}");
            console.MarkupLine($"  report       {Markup.Escape(Path.Combine(Uet.Reporting.ReportRenderer.Folder(root, summary.RunId), Uet.Reporting.MarkdownReport.FileName))}   (also .html, .json, .junit.xml)");
            var expected = summary.Tasks.Count(t => t.Result == TaskResult.Completed) == set.Workstreams.Count - 3
                && summary.Tasks.Any(t => t.Result == TaskResult.RolledBack)
                && summary.Tasks.Any(t => t.Result == TaskResult.Quarantined);
            return expected ? UetApp.Ok : UetApp.InvalidInput;
        });
        return command;
    }

    private static void Extract(string root)
    {
        var assembly = typeof(DemoCommand).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            var path = Path.Combine(root, name[ResourcePrefix.Length..].Replace('\\', '/'));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var resource = assembly.GetManifestResourceStream(name)!;
            using var file = File.Create(path);
            resource.CopyTo(file);
        }
    }
}
