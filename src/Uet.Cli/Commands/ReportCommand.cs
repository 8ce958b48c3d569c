using System.CommandLine;
using Uet.Config;
using Uet.Git;
using Uet.Reporting;
using Uet.State;

namespace Uet.Cli.Commands;

/// <summary><c>uet report [RUN]</c>: the execution report of a run, from the state database, as Markdown, JSON, JUnit XML or HTML.</summary>
internal static class ReportCommand
{
    private static readonly ReportFormat[] AllFormats = [ReportFormat.Markdown, ReportFormat.Html, ReportFormat.Json, ReportFormat.Junit];

    public static Command Create(CliOutput output)
    {
        var state = new StateOptions();
        var run = new Argument<string?>("run") { Description = "The run to report on (default: the newest run).", Arity = ArgumentArity.ZeroOrOne };
        var format = new Option<string>("--format", "-f")
        {
            Description = "markdown (UET_EXECUTION_REPORT.md), json, junit (XML, one test case per workstream), html (one file, no network), or all.",
            DefaultValueFactory = _ => "markdown",
        };
        format.AcceptOnlyFromAmong("markdown", "md", "json", "junit", "html", "all");
        var outputPath = new Option<string?>("--output", "-o") { Description = "Write to this file ('-' = stdout) instead of .uet/reports/<run>/ (one format only)." };
        var command = new Command("report", "Write the execution report of a run: outcome, timings, speedup, critical path, workstreams, waves, workers' lanes, incidents.")
        {
            run, format, outputPath,
        };
        state.AddTo(command, json: false);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var formats = parse.GetValue(format) switch
            {
                "all" => AllFormats,
                "json" => [ReportFormat.Json],
                "junit" => [ReportFormat.Junit],
                "html" => [ReportFormat.Html],
                _ => new[] { ReportFormat.Markdown },
            };
            var target = parse.GetValue(outputPath);
            if (target is not null && formats.Length > 1)
            {
                throw UsageException.InvalidOption("--output", "names one file; with --format all the reports go to .uet/reports/<run>/");
            }

            var config = state.LoadConfig(parse);
            await using var store = await state.OpenAsync(parse, cancellationToken).ConfigureAwait(false);
            var runId = parse.GetValue(run)
                ?? (await store.ListRunsAsync(1, cancellationToken).ConfigureAwait(false)).FirstOrDefault()?.RunId
                ?? throw UsageException.InvalidOption("report", "the state database has no run yet (uet run makes one)");
            if (await store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false) is null)
            {
                throw StateException.NotFound(EntityKind.Run, runId);
            }

            // The estimates are the ones the run planned with: its recorded config, when it has one.
            if (await store.RunConfigAsync(runId, cancellationToken).ConfigureAwait(false) is { } recorded)
            {
                try
                {
                    config = Uet.Config.ConfigLoader.Parse(recorded, $"the config recorded for run {runId}");
                }
                catch (Uet.Config.ConfigException)
                {
                    // Recorded by an older uet with keys this one no longer takes: the file's estimates will do for a report.
                }
            }

            var report = await ReportBuilder.BuildAsync(store, runId, config.Execution.DefaultEstimate, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            if (target == "-")
            {
                await output.Out.WriteAsync(ReportRenderer.Render(report, formats[0])).ConfigureAwait(false);
                return UetApp.Ok;
            }

            if (target is not null)
            {
                await ReportFiles.WriteFileAsync(target, ReportRenderer.Render(report, formats[0]), cancellationToken).ConfigureAwait(false);
                await output.Out.WriteLineAsync("report: " + Path.GetFullPath(target)).ConfigureAwait(false);
                return UetApp.Ok;
            }

            var folder = ReportRenderer.Folder(Workspace.FindRoot(Directory.GetCurrentDirectory()) ?? Directory.GetCurrentDirectory(), runId);
            foreach (var path in await ReportFiles.WriteAsync(report, folder, formats, cancellationToken).ConfigureAwait(false))
            {
                await output.Out.WriteLineAsync("report: " + path).ConfigureAwait(false);
            }

            return UetApp.Ok;
        });
        return command;
    }

    /// <summary>
    /// The end of every run (run, resume, demo): all four reports into <c>.uet/reports/&lt;run&gt;/</c>, then one summary line
    /// and the Markdown report's path. A report that cannot be written is a warning: the run itself is done.
    /// </summary>
    internal static async Task WriteAfterRunAsync(StateStore store, UetConfig config, string repository, string runId, TextWriter info, TextWriter errors)
    {
        try
        {
            var report = await ReportBuilder.BuildAsync(store, runId, config.Execution.DefaultEstimate, TimeProvider.System, CancellationToken.None).ConfigureAwait(false);
            var paths = await ReportFiles.WriteAsync(report, ReportRenderer.Folder(repository, runId), AllFormats, CancellationToken.None).ConfigureAwait(false);
            await info.WriteLineAsync(ReportText.Summary(report)).ConfigureAwait(false);
            await info.WriteLineAsync("report: " + paths[0]).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The run is over and recorded; a report that cannot be made is a warning, never the run's failure.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            await errors.WriteLineAsync($"uet: warning: the report of run {runId} could not be written: {ex.Message} (uet report {runId} tries again)").ConfigureAwait(false);
        }
    }
}
