namespace Uet.Execution;

/// <summary>
/// A child's output (the read end of its stdout/stderr pipe), read by the reaper thread when epoll says it is readable
/// and handed to one asynchronous reader. A program that ends without a word costs no thread of the runtime's socket
/// engine and no thread-pool hop for its end of output: the reaper sees it in the same wait as the exit. More than
/// <see cref="HighWater"/> bytes unread and the reaper stops reading (the pipe fills and the program waits, as it
/// would for any slow reader) until the reader has taken half of them.
/// </summary>
internal sealed class OutputPipe : ReadOnlyStream
{
    private const int HighWater = 1 << 20;

    private readonly Lock _gate = new();
    private readonly Queue<byte[]> _chunks = new();
    private readonly NativeSpawn.Reaper _reader;
    private int _offset;
    private long _buffered;
    private bool _closed;
    private bool _paused;
    private TaskCompletionSource? _waiting;

    internal OutputPipe(NativeSpawn.Reaper reader, int fd, long token, IReadOnlyList<byte[]> already)
    {
        _reader = reader;
        Fd = fd;
        Token = token;
        foreach (var chunk in already)
        {
            _chunks.Enqueue(chunk);
            _buffered += chunk.Length;
        }
    }

    internal int Fd { get; }

    internal long Token { get; }

    /// <summary>The reaper: the pipe is readable (or hung up). Reads once; closes it at end of output or on an error.</summary>
    internal unsafe void OnReadable(byte* scratch, int size)
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            if (_closed)
            {
                return; // an event from before the reader closed it
            }

            var read = NativeSpawn.ReadPipe(Fd, scratch, size, out var retry);
            if (read > 0)
            {
                _chunks.Enqueue(new ReadOnlySpan<byte>(scratch, read).ToArray());
                _buffered += read;
                if (_buffered >= HighWater)
                {
                    _paused = true;
                    _reader.Pause(this);
                }
            }
            else if (!retry)
            {
                CloseLocked(); // end of output, or an error reading it: no more will come either way
            }

            wake = _waiting;
            _waiting = null;
        }

        wake?.TrySetResult();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_chunks.Count > 0)
                {
                    return Take(buffer.Span);
                }

                if (_closed)
                {
                    return 0;
                }

                _waiting ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _waiting.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            TaskCompletionSource? wake;
            lock (_gate)
            {
                if (!_closed)
                {
                    CloseLocked();
                }

                _chunks.Clear();
                _buffered = 0;
                wake = _waiting;
                _waiting = null;
            }

            wake?.TrySetResult();
        }

        base.Dispose(disposing);
    }

    // Under the gate, so the reaper never reads a descriptor closed (and its number reused) meanwhile. Once only.
    private void CloseLocked()
    {
        _closed = true;
        _reader.Forget(this, registered: !_paused);
    }

    private int Take(Span<byte> buffer)
    {
        var taken = 0;
        while (taken < buffer.Length && _chunks.TryPeek(out var chunk))
        {
            var count = Math.Min(buffer.Length - taken, chunk.Length - _offset);
            chunk.AsSpan(_offset, count).CopyTo(buffer[taken..]);
            taken += count;
            _offset += count;
            if (_offset == chunk.Length)
            {
                _chunks.Dequeue();
                _offset = 0;
            }
        }

        _buffered -= taken;
        if (_paused && !_closed && _buffered <= HighWater / 2)
        {
            if (_reader.Resume(this))
            {
                _paused = false;
            }
            else
            {
                // Cannot be watched again (out of memory for epoll): closed, so the program gets EPIPE on its next
                // write instead of both sides waiting for ever; what was read is still given out.
                CloseLocked();
            }
        }

        return taken;
    }
}
