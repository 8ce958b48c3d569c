using System.Diagnostics;

namespace Uet.Tests.Support;

internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>Runs the real <c>uet</c> program (Uet.Cli.dll beside the tests) as a separate process.</summary>
internal static class CliRunner
{
    private static readonly string CliDll = Path.Combine(AppContext.BaseDirectory, "Uet.Cli.dll");

    public static CliResult Uet(string workingDirectory, params string[] args) => Run(workingDirectory, "dotnet", [CliDll, .. args]);

    public static CliResult UetWithEnvironment(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args) =>
        Run(workingDirectory, "dotnet", [CliDll, .. args], environment);

    /// <summary>Starts uet and returns at once, for commands that run until stopped (<c>events --follow</c>).</summary>
    public static Process StartUet(string workingDirectory, params string[] args)
    {
        var start = StartInfo(workingDirectory, "dotnet", [CliDll, .. args], null);
        start.RedirectStandardInput = true;
        return Process.Start(start)!;
    }

    /// <summary>Starts uet as the leader of a new process group (setsid), like a shell does for a foreground job.</summary>
    public static Process StartUetInNewGroup(string workingDirectory, params string[] args)
    {
        var start = StartInfo(workingDirectory, "setsid", ["dotnet", CliDll, .. args], null);
        start.RedirectStandardInput = true;
        return Process.Start(start)!;
    }

    public static CliResult Run(string workingDirectory, string program, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var process = Process.Start(StartInfo(workingDirectory, program, args, environment))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in 2 minutes");
        }

        return new CliResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    private static ProcessStartInfo StartInfo(string workingDirectory, string program, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["NO_COLOR"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        // No diagnostics IPC pipes: tests kill uet with SIGKILL, and a killed runtime leaves its pipes in /tmp.
        start.Environment["DOTNET_EnableDiagnostics"] = "0";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return start;
    }

    public static void Git(string workingDirectory, params string[] args) => GitOutput(workingDirectory, args);

    /// <summary>Runs git and returns what it printed, trimmed; throws when it fails.</summary>
    public static string GitOutput(string workingDirectory, params string[] args)
    {
        var result = Run(workingDirectory, "git", args);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"git {string.Join(' ', args)} failed: {result}");
        }

        return result.Stdout.Trim();
    }
}
