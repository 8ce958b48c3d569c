using System.Text;

namespace Uet.Execution;

public static partial class ProcessRunner
{
    /// <summary>
    /// A log file that stops growing at its cap (saying so once) and remembers the program's last lines. The file (and
    /// its folder) is made on the program's first output, or by <see cref="Keep"/>: a program that succeeds without a
    /// word leaves no file, and its command line goes nowhere but to memory (thousands of silent commands would
    /// otherwise make thousands of folders and files that say only that they ran). Once the file exists (an earlier
    /// command of the attempt wrote it), every command's lines go to it.
    /// </summary>
    // Plain synchronous file writes: a log line is a small buffered write, and async file I/O would hop threads
    // per write (the profile of a 1,000-task run showed the log's async dispose as the largest single cost).
    private sealed class CappedLog(string path, long cap, Redactor redactor) : IDisposable
    {
        public const int MaxLineChars = 64 * 1024;

        private readonly Queue<string> _tail = new();
        private readonly Lock _gate = new();
        private readonly List<string> _pending = [];
        private readonly bool _exists = File.Exists(path);
        private StreamWriter? _writer;
        private long _written;

        public bool Truncated { get; private set; }

        /// <summary>uet's own lines: always written, never part of the tail (they hold paths that change per attempt).</summary>
        public void Header(string text)
        {
            // One line, always: a command line can hold a whole prompt, whose lines must not pass for the tool's output.
            var line = "# " + redactor.Clean(text).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
            lock (_gate)
            {
                if (_writer is null && !_exists)
                {
                    _pending.Add(line);
                }
                else
                {
                    Writer().WriteLine(line);
                }
            }
        }

        /// <summary>Makes the file now, with the lines so far (the program failed: its command line must be on record).</summary>
        public void Keep()
        {
            lock (_gate)
            {
                _ = Writer();
            }
        }

        // Called with the gate held.
        private StreamWriter Writer()
        {
            if (_writer is null)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
                _writer = new StreamWriter(path, append: true, new UTF8Encoding(false));
                _written = _writer.BaseStream.Length;
                foreach (var line in _pending)
                {
                    _writer.WriteLine(line);
                }

                _pending.Clear();
            }

            return _writer;
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

                var writer = Writer();
                if (_written >= cap)
                {
                    if (!Truncated)
                    {
                        Truncated = true;
                        writer.WriteLine($"# uet: log truncated at {cap} bytes; the rest of the output was discarded");
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

                writer.WriteLine(clean);
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

        public void Dispose() => _writer?.Dispose();
    }
}
