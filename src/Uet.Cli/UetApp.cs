using System.CommandLine;
using Uet.Cli.Commands;

namespace Uet.Cli;

/// <summary>
/// The <c>uet</c> command line. Exit codes: 0 ok, 1 invalid input (workstreams, config), 2 usage error,
/// 130 cancelled (Ctrl+C). User errors end in one line on stderr, never a stack trace.
/// </summary>
internal static class UetApp
{
    public const int Ok = 0;
    public const int InvalidInput = 1;
    public const int UsageError = 2;
    public const int InternalError = 70;
    public const int Cancelled = 130;

    public static RootCommand BuildRoot(TextWriter stdout, TextWriter stderr)
    {
        var output = new CliOutput(stdout, stderr);
        var root = new RootCommand("uet: run many code-change workstreams as a dependency DAG on parallel workers.");
        root.Subcommands.Add(InitCommand.Create(output));
        root.Subcommands.Add(ValidateCommand.Create(output));
        root.Subcommands.Add(PlanCommand.Create(output));
        root.Subcommands.Add(SchemaCommand.Create(output));
        root.Subcommands.Add(RunCommand.Create(output));
        root.Subcommands.Add(ResumeCommand.Create(output));
        root.Subcommands.Add(DemoCommand.Create(output));
        root.Subcommands.Add(CleanCommand.Create(output));
        root.Subcommands.Add(WorkersCommand.Create(output));
        root.Subcommands.Add(StatusCommand.Create(output));
        root.Subcommands.Add(EventsCommand.Create(output));
        root.Subcommands.Add(ReportCommand.Create(output));
        root.Subcommands.Add(DoctorCommand.Create(output));
        return root;
    }

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = BuildRoot(stdout, stderr);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await stderr.WriteLineAsync($"uet: {error.Message}").ConfigureAwait(false);
            }

            await stderr.WriteLineAsync("Run 'uet --help' for usage.").ConfigureAwait(false);
            return UsageError;
        }

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        using var otlp = OtlpExport.StartFromEnvironment();
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }, cancel.Token).ConfigureAwait(false);
        }
        catch (UetException ex)
        {
            await stderr.WriteLineAsync($"uet: {ex.Message}").ConfigureAwait(false);
            return ex.ExitCode;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("uet: cancelled").ConfigureAwait(false);
            return Cancelled;
        }
#pragma warning disable CA1031 // The one catch-all, at the edge: a bug still ends in a clear message and a distinct exit code.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await stderr.WriteLineAsync($"uet: internal error (this is a bug in uet; please report it with the lines below): {ex}").ConfigureAwait(false);
            return InternalError;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
