using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Uet.Execution;

/// <summary>What to run: argv (never a shell string), where, with which extra environment, for how long, logged where.</summary>
public sealed record ProcessSpec(
    IReadOnlyList<string> Argv,
    string WorkingDirectory,
    IReadOnlyDictionary<string, string> Environment,
    TimeSpan? Timeout,
    string LogPath,
    long LogCapBytes);

/// <summary>How a process ended. <see cref="Tail"/> is the end of its own output, redacted, for errors and repeat detection.</summary>
public sealed record ProcessOutcome(int? ExitCode, bool TimedOut, TimeSpan Duration, string Tail, bool LogTruncated, string? StartError)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut && StartError is null;

    /// <summary>One line for events and reports.</summary>
    public string Describe() =>
        StartError ?? (TimedOut ? $"timed out after {Duration.TotalSeconds:0.#} s (process tree killed)" : $"exit code {ExitCode}");
}

/// <summary>
/// Runs one program. On Unix it runs in a session of its own (<c>setsid</c>), so a Ctrl+C at the terminal reaches uet
/// (which drains) and not the tools, and so the whole group can be killed: on timeout, on cancellation, and when the
/// program exits but left children behind holding its output open. Output (stdout and stderr, redacted) goes to a log
/// capped in bytes, read in chunks so that one endless line cannot fill memory.
/// </summary>
public static partial class ProcessRunner
{
    private const int TailLines = 20;
    private const int TailLineChars = 400;
    private static readonly TimeSpan DrainAfterExit = TimeSpan.FromSeconds(2);
    private static readonly string? Setsid = OperatingSystem.IsWindows() ? null : new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);

    public static async Task<ProcessOutcome> RunAsync(ProcessSpec spec, Redactor redactor, TimeProvider clock, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(spec.LogPath))!);
        using var log = new CappedLog(spec.LogPath, spec.LogCapBytes, redactor);
        log.Header($"$ {string.Join(' ', spec.Argv.Select(Quote))}  (in {spec.WorkingDirectory})");

        var program = Setsid is null ? spec.Argv[0] : FindProgram(spec.Argv[0], spec);
        if (program is null)
        {
            // Behind setsid a missing program would look like a tool failing with exit 127; say what it is.
            var missing = $"cannot start '{spec.Argv[0]}': no such program (not a file, and not found on PATH)";
            log.Header(missing);
            return new ProcessOutcome(null, false, TimeSpan.Zero, missing, false, missing);
        }

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

        var began = clock.GetTimestamp();
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            var error = $"cannot start '{spec.Argv[0]}': {ex.Message}";
            log.Header(error);
            return new ProcessOutcome(null, false, TimeSpan.Zero, error, false, error);
        }

        process.StandardInput.Close();
        using var timeout = spec.Timeout is { } limit ? new CancellationTokenSource(limit, clock) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        var pumps = Task.WhenAll(Pump(process.StandardOutput, log), Pump(process.StandardError, log));
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            timedOut = timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested;
            Kill(process);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }

        // Children the program left behind die with it: they would hold its output open (and outlive the run).
        KillGroup(process.Id);
        if (await Task.WhenAny(pumps, Task.Delay(DrainAfterExit, clock, CancellationToken.None)).ConfigureAwait(false) != pumps)
        {
            log.Header("uet: output still open after the program ended; stopped reading it");
        }

        var duration = clock.GetElapsedTime(began);
        var outcome = new ProcessOutcome(process.ExitCode, timedOut, duration, log.Tail(), log.Truncated, null);
        log.Header($"uet: {outcome.Describe()} after {duration.TotalSeconds:0.###} s");
        cancellationToken.ThrowIfCancellationRequested();
        return outcome;
    }

    private static string? FindProgram(string program, ProcessSpec spec)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            var path = Path.IsPathRooted(program) ? program : Path.Combine(spec.WorkingDirectory, program);
            return File.Exists(path) ? path : null;
        }

        var searchPath = spec.Environment.TryGetValue("PATH", out var overridden) ? overridden : Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return searchPath.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);
    }

    private static void Kill(Process process)
    {
        KillGroup(process.Id);
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It ended on its own between the timeout and the kill.
        }
    }

    private static void KillGroup(int pid)
    {
        if (Setsid is not null)
        {
            _ = KillProcessGroup(-pid, 9); // SIGKILL to the group; ESRCH when it is already gone is fine
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillProcessGroup(int pid, int signal);

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

    /// <summary>A log file that stops growing at its cap (saying so once) and remembers the program's last lines.</summary>
    // Plain synchronous file writes: a log line is a small buffered write, and async file I/O would hop threads
    // per write (the profile of a 1,000-task run showed the log's async dispose as the largest single cost).
    private sealed class CappedLog(string path, long cap, Redactor redactor) : IDisposable
    {
        public const int MaxLineChars = 64 * 1024;

        private readonly StreamWriter _writer = new(path, append: true, new UTF8Encoding(false));
        private readonly Queue<string> _tail = new();
        private readonly Lock _gate = new();
        private long _written = File.Exists(path) ? new FileInfo(path).Length : 0;

        public bool Truncated { get; private set; }

        /// <summary>uet's own lines: always written, never part of the tail (they hold paths that change per attempt).</summary>
        public void Header(string text)
        {
            lock (_gate)
            {
                _writer.WriteLine("# " + redactor.Clean(text));
            }
        }

        public void Line(string text)
        {
            var clean = redactor.Clean(text);
            lock (_gate)
            {
                _tail.Enqueue(clean.Length > TailLineChars ? clean[..TailLineChars] + "..." : clean);
                if (_tail.Count > TailLines)
                {
                    _tail.Dequeue();
                }

                if (_written >= cap)
                {
                    if (!Truncated)
                    {
                        Truncated = true;
                        _writer.WriteLine($"# uet: log truncated at {cap} bytes; the rest of the output was discarded");
                    }

                    return;
                }

                var room = cap - _written;
                var bytes = Encoding.UTF8.GetByteCount(clean) + 1;
                if (bytes > room)
                {
                    // Cut inside the line: the cap is a cap, not a hint.
                    clean = clean[..(int)Math.Min(clean.Length, room)];
                    bytes = Encoding.UTF8.GetByteCount(clean) + 1;
                }

                _writer.WriteLine(clean);
                _written += bytes;
            }
        }

        public string Tail()
        {
            lock (_gate)
            {
                return string.Join('\n', _tail);
            }
        }

        public void Dispose() => _writer.Dispose();
    }
}
