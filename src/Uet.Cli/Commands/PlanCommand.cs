using System.CommandLine;
using Uet.Cli.Rendering;
using Uet.Planning;
using Uet.Workstreams;

namespace Uet.Cli.Commands;

/// <summary><c>uet plan</c>: waves, critical path, likely conflicts and estimated time with N workers.</summary>
internal static class PlanCommand
{
    public static Command Create(CliOutput output)
    {
        var common = new CommonOptions();
        var format = new Option<string>("--format", "-f")
        {
            Description = "Output format.",
            DefaultValueFactory = _ => "text",
        };
        format.AcceptOnlyFromAmong("text", "json", "mermaid", "dot");
        var workers = new Option<int?>("--workers", "-w")
        {
            Description = "Workers to estimate with (default: execution.max_workers of the config, 4).",
        };

        var command = new Command("plan", "Show the plan: waves, critical path, scope overlaps, and estimated time with N workers.");
        common.AddTo(command);
        command.Options.Add(format);
        command.Options.Add(workers);
        command.Options.Add(common.Json);
        command.SetAction((parse, cancellationToken) =>
        {
            var workerCount = parse.GetValue(workers);
            if (workerCount is < 1)
            {
                throw UsageException.InvalidOption("--workers", $"must be 1 or more, got {workerCount}");
            }

            var config = common.LoadConfig(parse);
            var set = WorkstreamLoader.Load(common.Source(parse, config), parse.GetValue(common.SkipInvalid), cancellationToken);
            if (!set.IsUsable)
            {
                var errors = new CliOutput(output.Error, output.Error);
                DiagnosticsView.Render(errors, set, errorsOnly: true);
                return Task.FromResult(UetApp.InvalidInput);
            }

            var plan = Planner.Create(set.Workstreams, new PlanOptions(workerCount ?? config.Execution.MaxWorkers, config.Execution.DefaultEstimate));
            switch (parse.GetValue(common.Json) ? "json" : parse.GetValue(format))
            {
                case "json":
                    output.WriteJson(stream => PlanFormats.WriteJson(plan, set.SkipInvalid ? set.Skipped : [], stream));

                    break;
                case "mermaid":
                    output.Out.Write(PlanFormats.ToMermaid(plan));
                    break;
                case "dot":
                    output.Out.Write(PlanFormats.ToDot(plan));
                    break;
                default:
                    PlanView.Render(output.Console, plan, set);
                    break;
            }

            return Task.FromResult(UetApp.Ok);
        });
        return command;
    }
}
