using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Uet.Execution;

public static partial class ProcessRunner
{
    private static readonly string? Setsid = OperatingSystem.IsWindows() ? null : new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);

    private static Child? StartNative(ProcessSpec spec, string program, out string? error)
    {
        var started = NativeSpawn.Start(program, spec.Argv, spec.WorkingDirectory, spec.Environment, spec.StdinPath, out var reason);
        error = started is not null ? null
            : !Directory.Exists(spec.WorkingDirectory) ? $"cannot start '{spec.Argv[0]}': working directory '{spec.WorkingDirectory}' does not exist"
            : $"cannot start '{spec.Argv[0]}': {reason}";
        return started is null ? null : new NativeRunning(started);
    }

    private static Child? StartProcess(ProcessSpec spec, string program, out string? error)
    {
        // setsid execs the program in place (same pid) as the leader of a new session and process group; it gets the
        // resolved path, so it does not search PATH again (a failed exec per PATH entry, per task).
        var argv = Setsid is null ? spec.Argv : [Setsid, program, .. spec.Argv.Skip(1)];
        var start = new ProcessStartInfo(argv[0])
        {
            WorkingDirectory = spec.WorkingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in argv.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in spec.Environment)
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            process.Dispose();
            error = $"cannot start '{spec.Argv[0]}': {ex.Message}";
            return null;
        }

        if (spec.StdinPath is { } stdinPath)
        {
            _ = FeedAsync(process, stdinPath);
        }
        else
        {
            process.StandardInput.Close();
        }

        error = null;
        return new ProcessRunning(process);
    }

    /// <summary>The file as the program's stdin, then end of input; a program that ends without reading it all is fine.</summary>
    private static async Task FeedAsync(Process process, string path)
    {
        try
        {
            await using var input = File.OpenRead(path);
            await input.CopyToAsync(process.StandardInput.BaseStream).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException or InvalidOperationException or NotSupportedException)
        {
            // The program closed its stdin or ended (the file itself was checked before the start).
        }
        finally
        {
            // End of input whatever happened: a program reading stdin must never wait for more.
            try
            {
                process.StandardInput.Close();
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // Already gone.
            }
        }
    }

    private static void KillGroup(int pid)
    {
        if (!OperatingSystem.IsWindows())
        {
            NativeSpawn.KillGroup(pid); // SIGKILL to the group; ESRCH when it is already gone is fine
        }
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It ended on its own between the timeout and the kill.
        }
    }

    /// <summary>A started program, however it was started.</summary>
    private abstract class Child : IDisposable
    {
        public abstract int Pid { get; }

        /// <summary>What the program writes: stdout and stderr, as one stream or two.</summary>
        public abstract IReadOnlyList<StreamReader> Outputs { get; }

        /// <summary>The exit code once ended; null when its status could not be had.</summary>
        public abstract int? ExitCode { get; }

        public abstract Task WaitForExitAsync(CancellationToken cancellationToken);

        /// <summary>On timeout or cancellation: the program, its group and its tree.</summary>
        public abstract void Kill();

        /// <summary>After the program ended: what it left in its group.</summary>
        public abstract void KillLeftovers();

        public abstract void Dispose();
    }

    private sealed class NativeRunning(NativeChild child) : Child
    {
        private static readonly UTF8Encoding Utf8 = new(false);

        public override int Pid => child.Pid;

        public override IReadOnlyList<StreamReader> Outputs { get; } = [new(child.Output, Utf8)];

        public override int? ExitCode => child.Exit.Result is { } status ? NativeChild.ExitCode(status) : null;

        public override Task WaitForExitAsync(CancellationToken cancellationToken) => child.Exit.WaitAsync(cancellationToken);

        // The child is not reaped before Exit completes, so its pid (and group id) names it until then. The tree walk
        // first, while the program still holds its descendants (also those that left its group), then the group.
        public override void Kill()
        {
            if (child.Exit.IsCompleted)
            {
                return; // reaped, its group killed: the pid may name another process by now
            }

            try
            {
                using var process = Process.GetProcessById(child.Pid);
                KillTree(process);
            }
            catch (ArgumentException)
            {
                // Already ended.
            }

            KillGroup(child.Pid);
        }

        // The reaper killed the group before reaping the program, while its pid could not yet be reused.
        public override void KillLeftovers()
        {
        }

        public override void Dispose()
        {
            Outputs[0].Dispose();
            child.Dispose();
        }
    }

    private sealed class ProcessRunning(Process process) : Child
    {
        public override int Pid => process.Id;

        public override IReadOnlyList<StreamReader> Outputs => [process.StandardOutput, process.StandardError];

        public override int? ExitCode => process.ExitCode;

        public override Task WaitForExitAsync(CancellationToken cancellationToken) => process.WaitForExitAsync(cancellationToken);

        public override void Kill()
        {
            if (Setsid is not null)
            {
                KillGroup(process.Id);
            }

            KillTree(process);
        }

        public override void KillLeftovers()
        {
            if (Setsid is not null)
            {
                KillGroup(process.Id);
            }
        }

        public override void Dispose() => process.Dispose();
    }
}
