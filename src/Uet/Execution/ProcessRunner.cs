using System.ComponentModel;
using System.Diagnostics;
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

/// <summary>How a process ended. <see cref="Tail"/> is the end of its output, redacted, for error messages and repeat detection.</summary>
public sealed record ProcessOutcome(int? ExitCode, bool TimedOut, TimeSpan Duration, string Tail, bool LogTruncated, string? StartError)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut && StartError is null;

    /// <summary>One line for events and reports.</summary>
    public string Describe() =>
        StartError ?? (TimedOut ? $"timed out after {Duration.TotalSeconds:0.#} s (process tree killed)" : $"exit code {ExitCode}");
}

/// <summary>
/// Runs one program: stdout and stderr go, redacted and interleaved, to a log file capped in size; a timeout or a
/// cancellation kills the whole process tree, so a tool's children never outlive it.
/// </summary>
public static class ProcessRunner
{
    private const int TailLines = 20;

    public static async Task<ProcessOutcome> RunAsync(ProcessSpec spec, Redactor redactor, TimeProvider clock, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(spec.LogPath))!);
        await using var log = new CappedLog(spec.LogPath, spec.LogCapBytes, redactor);
        log.Header($"$ {string.Join(' ', spec.Argv.Select(Quote))}  (in {spec.WorkingDirectory})");

        var start = new ProcessStartInfo(spec.Argv[0])
        {
            WorkingDirectory = spec.WorkingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in spec.Argv.Skip(1))
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

        await pumps.ConfigureAwait(false);
        var duration = clock.GetElapsedTime(began);
        var outcome = new ProcessOutcome(process.ExitCode, timedOut, duration, log.Tail(TailLines), log.Truncated, null);
        log.Header($"uet: {outcome.Describe()} after {duration.TotalSeconds:0.###} s");
        cancellationToken.ThrowIfCancellationRequested();
        return outcome;
    }

    private static void Kill(Process process)
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

    private static async Task Pump(StreamReader reader, CappedLog log)
    {
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            log.Line(line);
        }
    }

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c)) ? argument : $"'{argument.Replace("'", "'\\''", StringComparison.Ordinal)}'";

    /// <summary>A log file that stops growing at its cap (saying so once) and remembers its last lines.</summary>
    private sealed class CappedLog(string path, long cap, Redactor redactor) : IAsyncDisposable
    {
        private readonly StreamWriter _writer = new(path, append: true, new UTF8Encoding(false));
        private readonly Queue<string> _tail = new();
        private readonly Lock _gate = new();
        private long _written;

        public bool Truncated { get; private set; }

        public void Header(string text) => Write("# " + redactor.Clean(text), force: true);

        public void Line(string text) => Write(redactor.Clean(text), force: false);

        public string Tail(int lines)
        {
            lock (_gate)
            {
                return string.Join('\n', _tail.TakeLast(lines));
            }
        }

        private void Write(string line, bool force)
        {
            lock (_gate)
            {
                _tail.Enqueue(line);
                if (_tail.Count > TailLines)
                {
                    _tail.Dequeue();
                }

                if (!force && _written >= cap)
                {
                    if (!Truncated)
                    {
                        Truncated = true;
                        _writer.WriteLine($"# uet: log truncated at {cap} bytes; the rest of the output was discarded");
                    }

                    return;
                }

                _writer.WriteLine(line);
                _written += Encoding.UTF8.GetByteCount(line) + 1;
            }
        }

        public async ValueTask DisposeAsync() => await _writer.DisposeAsync().ConfigureAwait(false);
    }
}
