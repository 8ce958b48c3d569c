using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Uet.Execution;

/// <summary>A child started by <see cref="NativeSpawn.Start"/>: its pid (also its session and process group id), its output (stdout and stderr), and its end.</summary>
internal sealed class NativeChild(int pid, Stream output, Task<int?> exit) : IDisposable
{
    public int Pid => pid;

    public Stream Output => output;

    /// <summary>The raw wait status once the child ended and was reaped; null when another waiter took it.</summary>
    public Task<int?> Exit => exit;

    /// <summary>Exit code as <see cref="System.Diagnostics.Process.ExitCode"/> gives it: the code, or 128 + the signal that ended it.</summary>
    public static int ExitCode(int status) => (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);

    public void Dispose() => output.Dispose();
}

internal static unsafe partial class NativeSpawn
{
    private const short PollIn = 0x1;
    private const int IdTypePid = 1; // P_PID
    private const int WaitExited = 4; // WEXITED
    private const int WaitNoWait = 0x01000000; // WNOWAIT
    private const int SignalInfoBytes = 128;

    /// <summary>
    /// One thread for all children: it polls their pidfds (and an eventfd that says a child was added) and reaps
    /// each one the moment it exits. A blocked thread per child would cost a thread start per task; the SIGCHLD route
    /// is .NET's, which we leave alone. Not epoll: a pidfd closed here can live on for a moment as a duplicate in a
    /// child being spawned elsewhere, and its epoll registration with it, reporting under a number that names another
    /// child's pidfd by then; poll only ever looks at the descriptors this thread holds open.
    /// </summary>
    private sealed class Reaper
    {
        private readonly ConcurrentQueue<Watched> _incoming = new();
        private readonly int _wake;

        public Reaper()
        {
            _wake = EventFd(0, OpenCloseOnExec);
            if (_wake >= 0)
            {
                new Thread(Loop) { IsBackground = true, Name = "uet child reaper" }.Start();
            }
        }

        public Task<int?> Watch(int pid)
        {
            var pidfd = _wake >= 0 ? (int)Syscall(SysPidfdOpen, pid, 0) : -1;
            var watched = new Watched(pid, pidfd);
            if (pidfd < 0)
            {
                // No pidfd (out of descriptors): this child gets a waiting thread of its own.
                WaitOnThread(watched);
                return watched.Exit.Task;
            }

            _incoming.Enqueue(watched);
            ulong one = 1;
            _ = Write(_wake, &one, sizeof(ulong));
            return watched.Exit.Task;
        }

        private void Loop()
        {
            var watching = new List<Watched>();
            var polls = new PollFd[64];
            while (true)
            {
                var count = watching.Count;
                if (polls.Length < count + 1)
                {
                    Array.Resize(ref polls, (count + 1) * 2);
                }

                polls[0] = new PollFd { Fd = _wake, Events = PollIn };
                for (var i = 0; i < count; i++)
                {
                    polls[i + 1] = new PollFd { Fd = watching[i].PidFd, Events = PollIn };
                }

                int ready;
                fixed (PollFd* p = polls)
                {
                    ready = Poll(p, (nuint)(count + 1), -1);
                }

                if (ready < 0)
                {
                    continue; // EINTR
                }

                for (var i = count - 1; i >= 0; i--)
                {
                    var revents = polls[i + 1].Revents;
                    if (revents == 0)
                    {
                        continue;
                    }

                    var child = watching[i];
                    watching.RemoveAt(i);
                    _ = Close(child.PidFd);
                    if ((revents & PollIn) == 0)
                    {
                        WaitOnThread(child); // an error on the pidfd and no exit: never spin on it, never block the others
                        continue;
                    }

                    // It exited. Whatever it left in its group dies now, while its zombie still holds the pid (and so the
                    // group id) and it cannot name a process that reused it.
                    KillGroup(child.Pid);
                    child.Exit.TrySetResult(Reap(child.Pid));
                }

                if ((polls[0].Revents & PollIn) != 0)
                {
                    ulong added;
                    _ = Read(_wake, &added, sizeof(ulong));
                }

                while (_incoming.TryDequeue(out var added))
                {
                    watching.Add(added);
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
                child.Exit.TrySetResult(Reap(child.Pid));
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

    private sealed class Watched(int pid, int pidfd)
    {
        public int Pid => pid;

        public int PidFd => pidfd;

        public TaskCompletionSource<int?> Exit { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport(Libc, EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(PollFd* fds, nuint count, int timeout);

    [LibraryImport(Libc, EntryPoint = "eventfd", SetLastError = true)]
    private static partial int EventFd(uint initial, int flags);

    [LibraryImport(Libc, EntryPoint = "read", SetLastError = true)]
    private static partial nint Read(int fd, void* buffer, nuint count);

    [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
    private static partial nint Write(int fd, void* buffer, nuint count);

    [LibraryImport(Libc, EntryPoint = "waitid", SetLastError = true)]
    private static partial int WaitId(int idType, int id, void* info, int options);
}
