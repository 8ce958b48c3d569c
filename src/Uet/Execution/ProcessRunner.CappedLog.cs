using System.Text;

namespace Uet.Execution;

public static partial class ProcessRunner
{
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
                // One line, always: a command line can hold a whole prompt, whose lines must not pass for the tool's output.
                _writer.WriteLine("# " + redactor.Clean(text).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal));
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
