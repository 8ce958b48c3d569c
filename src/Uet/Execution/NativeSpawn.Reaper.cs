using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Uet.Execution;

/// <summary>A child started by <see cref="NativeSpawn.Start"/>: its pid (also its session and process group id), its output (stdout and stderr), and its end.</summary>
internal sealed class NativeChild(int pid, Stream output, Task<int?> exit, bool followed) : IDisposable
{
    public int Pid => pid;

    /// <summary>Whether the thread that started it followed it first (<see cref="NativeSpawn.Reaper.Follow"/>).</summary>
    public bool Followed => followed;

    public Stream Output => output;

    /// <summary>The raw wait status once the child ended and was reaped; null when another waiter took it.</summary>
    public Task<int?> Exit => exit;

    /// <summary>Exit code as <see cref="System.Diagnostics.Process.ExitCode"/> gives it: the code, or 128 + the signal that ended it.</summary>
    public static int ExitCode(int status) => (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);

    public void Dispose() => output.Dispose();
}

internal static unsafe partial class NativeSpawn
{
    private const uint EpollIn = 0x1;
    private const int EpollAdd = 1;
    private const int EpollDelete = 2;
    private const int IdTypePid = 1; // P_PID
    private const int WaitExited = 4; // WEXITED
    private const int WaitNoWait = 0x01000000; // WNOWAIT
    private const int SignalInfoBytes = 128;
    private const short PollIn = 0x1;
    private const int FollowReadBytes = 16 * 1024;
    private const int FollowBufferBytes = 256 * 1024;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollItem
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }

    /// <summary>
    /// One thread for all children: it waits in epoll on their pidfds and reaps each one the moment it exits. The
    /// spawning thread registers the pidfd itself (epoll_ctl needs no wake-up of the waiting thread, which an eventfd
    /// did, once per child). A registration carries a token of its own, never the descriptor's number: a pidfd closed
    /// here can live on for a moment as a duplicate in a child being spawned elsewhere, and a number can name another
    /// child's pidfd by then. It is removed (EPOLL_CTL_DEL) before its pidfd is closed, so no event comes after.
    /// A blocked thread per child would cost a thread start per task; the SIGCHLD route is .NET's, which we leave alone.
    /// Before that, the spawning thread follows the child for a few milliseconds (<see cref="Follow"/>), the same way
    /// (its pidfd, then a kill of its group, then the reap): a short program is done by then, and whoever awaits it goes
    /// on on the same thread, with no wake-up of this one or of a pool thread.
    /// </summary>
    internal sealed class Reaper
    {
        // struct epoll_event is packed on x86-64 (12 bytes: events, then data at 4), not on arm64 (16: data at 8).
        private static readonly int EventBytes = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
        private static readonly int DataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

        private const int ReadBytes = 64 * 1024;

        private readonly ConcurrentDictionary<long, Watched> _watching = new();
        private readonly ConcurrentDictionary<long, OutputPipe> _pipes = new();
        private readonly int _epoll;
        private long _lastToken;

        public Reaper()
        {
            _epoll = EpollCreate(OpenCloseOnExec);
            if (_epoll >= 0)
            {
                new Thread(Loop) { IsBackground = true, Name = "uet child reaper" }.Start();
            }
        }

        /// <summary>
        /// A child just started, followed first by the calling thread for up to <paramref name="milliseconds"/>: one
        /// that ends in that time (with its output) is reaped here and given back complete, so whoever awaits it goes
        /// on without a thread hop. One that is still running is handed to the reaper's thread with what it wrote so far.
        /// <paramref name="reaped"/> runs once it is reaped, here or there.
        /// </summary>
        public NativeChild Follow(int pid, int outputFd, int milliseconds, Action? reaped)
        {
            var pidfd = _epoll >= 0 && milliseconds > 0 ? (int)Syscall(SysPidfdOpen, pid, 0) : -1;
            if (pidfd < 0 || !SetNonBlocking(outputFd, true))
            {
                if (pidfd >= 0)
                {
                    _ = Close(pidfd);
                }

                return new NativeChild(pid, HandOver(outputFd, []), Watch(pid, -1, reaped), followed: false);
            }

            var chunks = new List<byte[]>();
            long buffered = 0;
            var exited = false;
            var ended = false;
            var deadline = Stopwatch.GetTimestamp() + (milliseconds * Stopwatch.Frequency / 1000);
            var polls = stackalloc PollItem[2];
            var scratch = stackalloc byte[FollowReadBytes];
            while (!(exited && ended) && buffered < FollowBufferBytes)
            {
                var left = deadline - Stopwatch.GetTimestamp();
                if (left <= 0)
                {
                    break;
                }

                var count = 0;
                if (!ended)
                {
                    polls[count++] = new PollItem { Fd = outputFd, Events = PollIn };
                }

                if (!exited)
                {
                    polls[count++] = new PollItem { Fd = pidfd, Events = PollIn };
                }

                var ready = Poll(polls, (ulong)count, (int)Math.Ceiling(left * 1000.0 / Stopwatch.Frequency));
                if (ready < 0 && Marshal.GetLastPInvokeError() == ErrorInterrupted)
                {
                    continue;
                }

                if (ready < 0)
                {
                    break;
                }

                for (var i = 0; i < count; i++)
                {
                    if (polls[i].ReturnedEvents == 0)
                    {
                        continue;
                    }

                    if (polls[i].Fd == pidfd)
                    {
                        exited = true;
                        KillGroup(pid); // as the reaper does: its zombie still holds the pid, so the group id names only its own
                        continue;
                    }

                    var read = ReadPipe(outputFd, scratch, FollowReadBytes, out var retry);
                    if (read > 0)
                    {
                        chunks.Add(new ReadOnlySpan<byte>(scratch, read).ToArray());
                        buffered += read;
                    }
                    else if (!retry)
                    {
                        ended = true;
                    }
                }
            }

            Stream output;
            if (ended)
            {
                _ = Close(outputFd);
                output = new MemoryStream(chunks.Count == 1 ? chunks[0] : [.. chunks.SelectMany(c => c)], writable: false);
            }
            else
            {
                output = HandOver(outputFd, chunks);
            }

            if (!exited)
            {
                return new NativeChild(pid, output, Watch(pid, pidfd, reaped), followed: true);
            }

            _ = Close(pidfd);
            var status = Reap(pid);
            reaped?.Invoke();
            return new NativeChild(pid, output, Task.FromResult(status), followed: true);
        }

        /// <summary>A child's output from here on, after what was read of it already: read by this thread, or by the runtime's pipe stream when it cannot be.</summary>
        private Stream HandOver(int outputFd, List<byte[]> already) => (Stream?)Read(outputFd, already) ?? OpenPipe(outputFd, already);

        /// <summary>Hands a child to the reaper's thread (through <paramref name="pidfd"/>, or a new one when it is -1).</summary>
        public Task<int?> Watch(int pid, int pidfd, Action? reaped)
        {
            pidfd = pidfd < 0 && _epoll >= 0 ? (int)Syscall(SysPidfdOpen, pid, 0) : pidfd;
            var watched = new Watched(pid, pidfd, reaped);
            if (pidfd >= 0)
            {
                var token = Interlocked.Increment(ref _lastToken);
                _watching[token] = watched; // before the registration: its event may come at once
                var added = Control(EpollAdd, pidfd, token);
                if (added == 0)
                {
                    return watched.Exit.Task;
                }

                _watching.TryRemove(token, out _);
                _ = Close(pidfd);
            }

            // No pidfd or no registration (out of descriptors or memory): this child gets a waiting thread of its own.
            WaitOnThread(watched);
            return watched.Exit.Task;
        }

        /// <summary>
        /// The read end of a child's output pipe, read from now on by this thread; null when it cannot be registered
        /// (then the caller reads it another way).
        /// </summary>
        private OutputPipe? Read(int fd, IReadOnlyList<byte[]> already)
        {
            if (_epoll < 0 || !SetNonBlocking(fd, true))
            {
                return null;
            }

            var pipe = new OutputPipe(this, fd, Interlocked.Increment(ref _lastToken), already);
            _pipes[pipe.Token] = pipe;
            if (Control(EpollAdd, fd, pipe.Token) == 0)
            {
                return pipe;
            }

            _pipes.TryRemove(pipe.Token, out _);
            _ = SetNonBlocking(fd, false);
            return null;
        }

        /// <summary>Stops reading a pipe whose reader is behind (called under the pipe's lock).</summary>
        internal void Pause(OutputPipe pipe) => _ = Control(EpollDelete, pipe.Fd, 0);

        /// <summary>Reads a paused pipe again (under its lock); false when it cannot be registered again.</summary>
        internal bool Resume(OutputPipe pipe) => Control(EpollAdd, pipe.Fd, pipe.Token) == 0;

        /// <summary>Closes a pipe for good (under its lock): never reported, never read again.</summary>
        internal void Forget(OutputPipe pipe, bool registered)
        {
            if (registered)
            {
                _ = Control(EpollDelete, pipe.Fd, 0);
            }

            _ = Close(pipe.Fd);
            _pipes.TryRemove(pipe.Token, out _);
        }

        private int Control(int operation, int fd, long token)
        {
            var item = stackalloc byte[16];
            *(uint*)item = EpollIn;
            *(long*)(item + DataOffset) = token;
            return EpollCtl(_epoll, operation, fd, item);
        }

        private void Loop()
        {
            const int Capacity = 64;
            var events = (byte*)NativeMemory.Alloc((nuint)(Capacity * EventBytes));
            var scratch = (byte*)NativeMemory.Alloc(ReadBytes);
            while (true)
            {
                var ready = EpollWait(_epoll, events, Capacity, -1);
                for (var i = 0; i < ready; i++) // ready < 0: EINTR, wait again
                {
                    var item = events + (i * EventBytes);
                    var flags = *(uint*)item;
                    var token = *(long*)(item + DataOffset);
                    if (_pipes.TryGetValue(token, out var pipe))
                    {
                        pipe.OnReadable(scratch, ReadBytes);
                        continue;
                    }

                    if (!_watching.TryRemove(token, out var child))
                    {
                        continue;
                    }

                    _ = Control(EpollDelete, child.PidFd, 0);
                    _ = Close(child.PidFd);
                    if ((flags & EpollIn) == 0)
                    {
                        WaitOnThread(child); // an error on the pidfd and no exit: never spin on it, never block the others
                        continue;
                    }

                    // It exited. Whatever it left in its group dies now, while its zombie still holds the pid (and so the
                    // group id) and it cannot name a process that reused it.
                    KillGroup(child.Pid);
                    child.Done(Reap(child.Pid));
                }
            }
        }

        private static void WaitOnThread(Watched child) =>
            new Thread(() =>
            {
                // Wait without reaping, kill the leftovers, then reap: same order as the reaper's, for the same reason.
                var info = stackalloc byte[SignalInfoBytes];
                while (WaitId(IdTypePid, child.Pid, info, WaitExited | WaitNoWait) != 0 && Marshal.GetLastPInvokeError() == ErrorInterrupted)
                {
                }

                KillGroup(child.Pid);
                child.Done(Reap(child.Pid));
            })
            { IsBackground = true, Name = "uet child wait" }.Start();

        /// <summary>Reaps an exited child: its wait status, or null when it is no longer ours to wait for (ECHILD).</summary>
        private static int? Reap(int pid)
        {
            int status;
            int result;
            while ((result = WaitPid(pid, &status, 0)) < 0 && Marshal.GetLastPInvokeError() == ErrorInterrupted)
            {
            }

            return result == pid ? status : null;
        }
    }

    private sealed class Watched(int pid, int pidfd, Action? reaped)
    {
        public void Done(int? status)
        {
            reaped?.Invoke();
            Exit.TrySetResult(status);
        }

        public int Pid => pid;

        public int PidFd => pidfd;

        public TaskCompletionSource<int?> Exit { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private const int ErrorWouldBlock = 11; // EAGAIN on x86-64 and arm64
    private const int FileGetFlags = 3; // F_GETFL
    private const int FileSetFlags = 4; // F_SETFL
    private const int NonBlocking = 0x800; // O_NONBLOCK on x86-64 and arm64

    /// <summary>One read of a pipe: bytes read, 0 at end of output; on -1, <paramref name="retry"/> says whether it was only "not now".</summary>
    internal static int ReadPipe(int fd, byte* buffer, int size, out bool retry)
    {
        var read = (int)Read(fd, buffer, (nuint)size);
        var error = read < 0 ? Marshal.GetLastPInvokeError() : 0;
        retry = read < 0 && error is ErrorWouldBlock or ErrorInterrupted;
        return read;
    }

    private static bool SetNonBlocking(int fd, bool on)
    {
        var flags = Fcntl(fd, FileGetFlags, 0);
        return flags >= 0 && Fcntl(fd, FileSetFlags, on ? flags | NonBlocking : flags & ~NonBlocking) == 0;
    }

    [LibraryImport(Libc, EntryPoint = "read", SetLastError = true)]
    private static partial nint Read(int fd, void* buffer, nuint count);

    [LibraryImport(Libc, EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(PollItem* items, ulong count, int timeout);

    [LibraryImport(Libc, EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport(Libc, EntryPoint = "epoll_create1", SetLastError = true)]
    private static partial int EpollCreate(int flags);

    [LibraryImport(Libc, EntryPoint = "epoll_ctl", SetLastError = true)]
    private static partial int EpollCtl(int epoll, int operation, int fd, void* item);

    [LibraryImport(Libc, EntryPoint = "epoll_wait", SetLastError = true)]
    private static partial int EpollWait(int epoll, void* items, int capacity, int timeout);

    [LibraryImport(Libc, EntryPoint = "waitid", SetLastError = true)]
    private static partial int WaitId(int idType, int id, void* info, int options);
}
