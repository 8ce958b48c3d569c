using System.Text;

namespace Uet.Execution;

/// <summary>What to run: argv (never a shell string), where, with which extra environment, for how long, logged where (the log is made on the first output, or when the program fails).</summary>
/// <param name="Argv">The program and its arguments.</param>
/// <param name="WorkingDirectory">Where it runs.</param>
/// <param name="Environment">Variables set on top of uet's own.</param>
/// <param name="Timeout">When the whole process tree is killed; null = never.</param>
/// <param name="LogPath">Where stdout and stderr go.</param>
/// <param name="LogCapBytes">How much of them the log keeps.</param>
/// <param name="StdinPath">A file whose contents are the program's stdin; null = empty stdin.</param>
public sealed record ProcessSpec(
    IReadOnlyList<string> Argv,
    string WorkingDirectory,
    IReadOnlyDictionary<string, string> Environment,
    TimeSpan? Timeout,
    string LogPath,
    long LogCapBytes,
    string? StdinPath = null);

/// <summary>How a process ended. <see cref="Tail"/> is the end of its own output, redacted, for errors and repeat detection.</summary>
public sealed record ProcessOutcome(int? ExitCode, bool TimedOut, TimeSpan Duration, string Tail, bool LogTruncated, string? StartError)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut && StartError is null;

    /// <summary>One line for events and reports.</summary>
    public string Describe() =>
        StartError ?? (TimedOut ? $"timed out after {Duration.TotalSeconds:0.#} s (process tree killed)" : $"exit code {ExitCode}");
}

/// <summary>
/// Runs one program. On Unix it runs in a session of its own, so a Ctrl+C at the terminal reaches uet (which drains)
/// and not the tools, and so the whole group can be killed: on timeout, on cancellation, and when the program exits
/// but left children behind holding its output open. Output (stdout and stderr, redacted) goes to a log capped in
/// bytes, read in chunks so that one endless line cannot fill memory.
/// </summary>
/// <remarks>
/// On Linux with glibc the program is started by <see cref="NativeSpawn"/> (<c>posix_spawn</c> with its own session
/// flag, reaped through a pidfd); elsewhere, or with <c>UET_SPAWN=process</c>, by <see cref="System.Diagnostics.Process"/>
/// behind <c>setsid</c>. The choice is made once per process.
/// </remarks>
public static partial class ProcessRunner
{
    private const int TailLines = 20;
    private const int TailLineChars = 400;
    private static readonly TimeSpan DrainAfterExit = TimeSpan.FromSeconds(2);
    private static readonly bool UseNativeSpawn = NativeSpawn.IsAvailable;

    public static Task<ProcessOutcome> RunAsync(ProcessSpec spec, Redactor redactor, TimeProvider clock, CancellationToken cancellationToken) =>
        RunAsync(spec, redactor, clock, UseNativeSpawn, cancellationToken);

    /// <summary>The same, with the way of starting chosen by the caller (tests run both).</summary>
    internal static async Task<ProcessOutcome> RunAsync(ProcessSpec spec, Redactor redactor, TimeProvider clock, bool nativeSpawn, CancellationToken cancellationToken)
    {
        using var log = new CappedLog(spec.LogPath, spec.LogCapBytes, redactor);
        log.Header($"$ {string.Join(' ', spec.Argv.Select(Quote))}  (in {spec.WorkingDirectory})");

        if (spec.StdinPath is { } stdinPath && Unreadable(stdinPath) is { } why)
        {
            return StartFailed(log, $"cannot start '{spec.Argv[0]}': its input file {stdinPath} cannot be read: {why}");
        }

        var resolve = nativeSpawn || Setsid is not null;
        var program = resolve ? FindProgram(spec.Argv[0], spec) : spec.Argv[0];
        if (program is null)
        {
            // Behind setsid a missing program would look like a tool failing with exit 127; say what it is.
            return StartFailed(log, $"cannot start '{spec.Argv[0]}': no such program (not a file, and not found on PATH)");
        }

        var began = clock.GetTimestamp();
        using var child = nativeSpawn ? StartNative(spec, program, out var error) : StartProcess(spec, program, out error);
        if (child is null)
        {
            return StartFailed(log, error!);
        }

        using var timeout = spec.Timeout is { } limit ? new CancellationTokenSource(limit, clock) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        var pumps = Task.WhenAll(child.Outputs.Select(output => Pump(output, log)));
        var timedOut = false;
        try
        {
            await child.WaitForExitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            timedOut = timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested;
            child.Kill();
            await child.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }

        // Children the program left behind die with it: they would hold its output open (and outlive the run).
        child.KillLeftovers();
        // Usually the output has ended with the program: no 2-second timer per program then.
        if (!pumps.IsCompleted && await Task.WhenAny(pumps, Task.Delay(DrainAfterExit, clock, CancellationToken.None)).ConfigureAwait(false) != pumps)
        {
            log.Header("uet: output still open after the program ended; stopped reading it");
            log.Keep();
        }

        var duration = clock.GetElapsedTime(began);
        var outcome = child.ExitCode is { } exitCode
            ? new ProcessOutcome(exitCode, timedOut, duration, log.Tail(), log.Truncated, null)
            : new ProcessOutcome(null, timedOut, duration, log.Tail(), log.Truncated, $"uet: the exit status of '{spec.Argv[0]}' (pid {child.Pid}) was taken by another waiter");
        if (!outcome.Succeeded || cancellationToken.IsCancellationRequested)
        {
            log.Keep();
        }

        log.Header($"uet: {outcome.Describe()} after {duration.TotalSeconds:0.###} s");
        cancellationToken.ThrowIfCancellationRequested();
        return outcome;
    }

    /// <summary>Why <paramref name="path"/> cannot be read as a program's stdin; null when it can.</summary>
    private static string? Unreadable(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ex.Message;
        }
    }

    private static ProcessOutcome StartFailed(CappedLog log, string error)
    {
        log.Keep();
        log.Header(error);
        return new ProcessOutcome(null, false, TimeSpan.Zero, error, false, error);
    }

    private static string? FindProgram(string program, ProcessSpec spec)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            var path = Path.IsPathRooted(program) ? program : Path.Combine(spec.WorkingDirectory, program);
            return File.Exists(path) ? path : null;
        }

        var searchPath = spec.Environment.TryGetValue("PATH", out var overridden) ? overridden : Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        // A search of a PATH made only of absolute folders does not depend on where the program runs: the last find is
        // taken again while it is still an executable file there (one check instead of one per folder before it). Only
        // such searches are kept, so a hit needs no second look at the PATH.
        if (Found.TryGetValue((program, searchPath), out var known) && Adapters.ProgramLocator.IsExecutableFile(known))
        {
            return known;
        }

        var found = Adapters.ProgramLocator.Find(program, searchPath, spec.WorkingDirectory);
        if (found is not null && searchPath.Split(Path.PathSeparator).All(Path.IsPathRooted))
        {
            Found[(program, searchPath)] = found;
        }

        return found;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Program, string SearchPath), string> Found = new();

    private static async Task Pump(StreamReader reader, CappedLog log)
    {
        var buffer = new char[8192];
        var line = new StringBuilder();
        int read;
        while ((read = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            var start = 0;
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] == '\n')
                {
                    line.Append(buffer, start, i - start);
                    log.Line(line.ToString());
                    line.Clear();
                    start = i + 1;
                }
            }

            line.Append(buffer, start, read - start);
            if (line.Length > CappedLog.MaxLineChars)
            {
                // An endless line is written in pieces, so the cap and memory hold.
                log.Line(line.ToString());
                line.Clear();
            }
        }

        if (line.Length > 0)
        {
            log.Line(line.ToString());
        }
    }

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c)) ? argument : $"'{argument.Replace("'", "'\\''", StringComparison.Ordinal)}'";
}
