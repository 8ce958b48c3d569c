using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Uet.Execution;

/// <summary>
/// Starts a program on Linux with glibc's <c>posix_spawn</c>: in a session of its own (<c>POSIX_SPAWN_SETSID</c>, so
/// no <c>setsid</c> program is exec'd), stdin from <c>/dev/null</c>, stdout and stderr on one pipe of our own, the
/// environment given in full, the working directory set by the spawn itself. Replaces
/// <see cref="System.Diagnostics.Process"/> for the runner, whose per-child cost (its SIGCHLD bookkeeping, one more
/// exec for setsid) was a large share of uet's overhead per no-op task. <c>UET_SPAWN=process</c> turns it off.
/// </summary>
/// <remarks>
/// Reaping: .NET's own SIGCHLD handler only reaps the children <see cref="System.Diagnostics.Process"/> started
/// (it peeks with <c>waitid(WNOWAIT)</c> and skips pids it does not track), except when it must reap everything:
/// when uet is pid 1, or when SIGCHLD was ignored when uet started. <see cref="IsAvailable"/> is false for pid 1;
/// SIGCHLD ignored at start cannot be seen once .NET has installed its handler, so a child whose status another
/// waiter took is reported as such (<see cref="NativeChild.Exit"/> gives null), never waited for forever.
/// Each child is watched through a pidfd by one reaper thread for all children; the reaper kills the child's process
/// group (children it left behind) before reaping it, while its pid still cannot be reused.
/// </remarks>
internal static unsafe partial class NativeSpawn
{
    private const string Libc = "libc";
    private const short SpawnSetSigDefault = 0x04;
    private const short SpawnSetSigMask = 0x08;
    private const short SpawnSetSid = 0x80; // glibc >= 2.26
    private const int SigPipe = 13;
    private const int SigKill = 9;
    private const int OpenCloseOnExec = 0x80000; // O_CLOEXEC (also EFD_CLOEXEC) on x86-64 and arm64
    private const int SysPidfdOpen = 434; // the same number on every architecture
    private const int ErrorInterrupted = 4;
    private const int ErrorExecFormat = 8; // ENOEXEC
    private const string Shell = "/bin/sh";

    // glibc's opaque types, sized generously: posix_spawnattr_t is 336 bytes, posix_spawn_file_actions_t 80 and
    // sigset_t 128 on x86-64 and arm64.
    private const int AttrBytes = 512;
    private const int ActionsBytes = 256;
    private const int SignalSetBytes = 128;

    private static readonly Lazy<Reaper> TheReaper = new(() => new Reaper());

    /// <summary>True on Linux with a glibc that has <c>POSIX_SPAWN_SETSID</c> and <c>addchdir_np</c> (2.29), pidfds (5.3), and when uet is not pid 1.</summary>
    public static bool IsAvailable { get; } = Probe();

    // glibc >= 2.34: close every descriptor above stderr in the child, also those uet inherited without close-on-exec
    // (a harness's pipe held open by a tool's daemon would keep that harness waiting).
    private static readonly bool CanCloseFrom = IsAvailable && ProbeCloseFrom();

    /// <summary>Kills a process group (SIGKILL to <c>-pgid</c>); a group that is already gone is fine.</summary>
    public static void KillGroup(int pgid) => _ = Kill(-pgid, SigKill);

    /// <summary>
    /// How long the spawning thread follows a child it started before handing it to the reaper's thread. A no-op
    /// program (<c>true</c>) ends in under a millisecond, and a wake-up of the reaper and then of a pool thread cost
    /// more than that on a 2-core VM: 0.38-0.40 against 0.32 ms a program, 2 at a time (bench, "spawn native"). A
    /// program that runs longer costs the thread blocked this long (it may be the dispatcher's, with tasks waiting to
    /// start), so a program is followed only while its runs take half of this on average (or it has not run yet), and
    /// by no more threads at once than there are cores.
    /// </summary>
    internal const int FollowMilliseconds = 5;

    /// <summary>How long a program is followed when the caller does not say (<see cref="FollowMilliseconds"/>; tests change it).</summary>
    internal static int DefaultFollowMilliseconds { get; set; } = FollowMilliseconds;

    // Per program (FollowKey): its runs' mean duration in ms, from start to reap, each run weighing a quarter.
    private static readonly ConcurrentDictionary<string, double> MeanMilliseconds = new(StringComparer.Ordinal);
    private static readonly int MaxFollowers = Math.Max(1, Environment.ProcessorCount);
    private static int _followers;
    private const int MaxProgramsKnown = 4096;
    private static int _programsKnown;

    /// <summary>Whether the next start of the program known as <paramref name="key"/> (<see cref="FollowKey"/>) will be followed, a follower's place permitting.</summary>
    internal static bool FollowsNext(string key) => MeanMilliseconds.GetValueOrDefault(key) <= FollowMilliseconds / 2.0;

    /// <summary>
    /// What a program is known by: its path inside the folder it runs in, when it is there (<c>./check.sh</c> or
    /// <c>node_modules/.bin/x</c> in each task's worktree is one program, not one per worktree), else its path.
    /// </summary>
    internal static string FollowKey(string program, string workingDirectory)
    {
        var folder = workingDirectory.TrimEnd('/');
        // Never a rooted remainder ("/w//x" in "/w"): it would be known as the program "/x".
        return folder.Length > 0 && program.Length > folder.Length + 1 && program[folder.Length] == '/' && program[folder.Length + 1] != '/'
            && program.StartsWith(folder, StringComparison.Ordinal)
            ? program[(folder.Length + 1)..]
            : program;
    }

    /// <summary>Starts <paramref name="program"/> (a resolved path) with <paramref name="argv"/> (argv[0] included).</summary>
    /// <param name="program">The program's path.</param>
    /// <param name="argv">Its arguments, argv[0] included.</param>
    /// <param name="workingDirectory">Where it runs.</param>
    /// <param name="environment">Variables set on top of uet's own.</param>
    /// <param name="stdinPath">A file opened as its stdin; null for /dev/null.</param>
    /// <param name="error">Why it could not be started.</param>
    /// <param name="followMilliseconds">How long this thread follows it before the reaper does; 0 = not at all; null = <see cref="DefaultFollowMilliseconds"/> if <see cref="FollowsNext"/> and fewer threads than cores follow one.</param>
    /// <returns>The child, already reaped with its output complete if it ended while followed; or null with <paramref name="error"/> set (strerror of the failure).</returns>
    public static NativeChild? Start(string program, IReadOnlyList<string> argv, string workingDirectory, IReadOnlyDictionary<string, string> environment, string? stdinPath, out string? error, int? followMilliseconds = null)
    {
        var started = Stopwatch.GetTimestamp();
        var environmentLines = BuildEnvironment(environment);
        var pipe = stackalloc int[2];
        if (Pipe2(pipe, OpenCloseOnExec) != 0)
        {
            error = Marshal.GetLastPInvokeErrorMessage();
            return null;
        }

        int pid;
        int result;
        var actions = stackalloc byte[ActionsBytes];
        var attr = stackalloc byte[AttrBytes];
        var defaults = stackalloc byte[SignalSetBytes];
        var mask = stackalloc byte[SignalSetBytes];
        var argvBlock = NativeStrings.Create(argv);
        var envBlock = NativeStrings.Create(environmentLines);
        _ = SpawnFileActionsInit(actions);
        _ = SpawnAttrInit(attr);
        try
        {
            // stdout and stderr are one pipe, as in a terminal (and in ninja): the log gets them in the order written,
            // and there is one stream to read, not two. The write end is O_CLOEXEC in us; dup2 onto 1 and 2 clears
            // that in the child only, so other children spawned at the same time never hold it, and end of output
            // means this child and whatever it left behind are done.
            _ = SpawnFileActionsAddOpen(actions, 0, stdinPath ?? "/dev/null", 0, 0); // O_RDONLY
            _ = SpawnFileActionsAddDup2(actions, pipe[1], 1);
            _ = SpawnFileActionsAddDup2(actions, pipe[1], 2);
            _ = SpawnFileActionsAddChdir(actions, workingDirectory);
            if (CanCloseFrom)
            {
                _ = SpawnFileActionsAddCloseFrom(actions, 3);
            }

            // .NET ignores SIGPIPE; a tool must get the default (killed on a closed pipe). No signal is blocked in the
            // child, whatever the spawning thread had blocked.
            _ = SignalEmptySet(defaults);
            _ = SignalAddSet(defaults, SigPipe);
            _ = SignalEmptySet(mask);
            _ = SpawnAttrSetSigDefault(attr, defaults);
            _ = SpawnAttrSetSigMask(attr, mask);
            _ = SpawnAttrSetFlags(attr, SpawnSetSid | SpawnSetSigDefault | SpawnSetSigMask);

            result = PosixSpawn(&pid, program, actions, attr, argvBlock, envBlock);
            if (result == ErrorExecFormat && File.Exists(Shell))
            {
                // A script without a #! line: run it with sh, as execvp (and so setsid, before this spawner) does.
                NativeMemory.Free(argvBlock);
                argvBlock = NativeStrings.Create([Shell, program, .. argv.Skip(1)]);
                result = PosixSpawn(&pid, Shell, actions, attr, argvBlock, envBlock);
            }
        }
        finally
        {
            _ = SpawnFileActionsDestroy(actions);
            _ = SpawnAttrDestroy(attr);
            NativeMemory.Free(argvBlock);
            NativeMemory.Free(envBlock);
            _ = Close(pipe[1]);
        }

        if (result != 0)
        {
            _ = Close(pipe[0]);
            error = Marshal.GetPInvokeErrorMessage(result);
            return null;
        }

        error = null;
        var key = FollowKey(program, workingDirectory);
        var claimed = followMilliseconds is null && FollowsNext(key) && ClaimFollower();
        try
        {
            return TheReaper.Value.Follow(pid, pipe[0], followMilliseconds ?? (claimed ? DefaultFollowMilliseconds : 0), () => Learn(key, Stopwatch.GetElapsedTime(started).TotalMilliseconds));
        }
        finally
        {
            if (claimed)
            {
                _ = Interlocked.Decrement(ref _followers);
            }
        }
    }

    // Runs on the reaper's thread too: nothing here may throw. Races between two runs of one program lose a run's
    // weight at worst. Programs run from a worktree have a path per task: past 4,096 paths, everything is forgotten.
    internal static void Learn(string key, double took)
    {
        if (MeanMilliseconds.TryGetValue(key, out var mean))
        {
            MeanMilliseconds[key] = mean + ((took - mean) / 4);
            return;
        }

        if (Interlocked.Increment(ref _programsKnown) > MaxProgramsKnown)
        {
            MeanMilliseconds.Clear();
            _ = Interlocked.Exchange(ref _programsKnown, 1);
        }

        MeanMilliseconds[key] = took;
    }

    private static bool ClaimFollower()
    {
        if (Interlocked.Increment(ref _followers) <= MaxFollowers)
        {
            return true;
        }

        _ = Interlocked.Decrement(ref _followers);
        return false;
    }

    // uet's environment as NAME=value lines, read once: nothing in uet changes its own environment, and reading it
    // again for every program (a copy of the whole table each time) was a measurable share of a spawn.
    private static readonly Lazy<(string Name, string Line)[]> OwnEnvironment = new(() =>
        Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .Select(e => ((string)e.Key, (string)e.Key + "=" + ((string?)e.Value ?? string.Empty)))
            .ToArray());

    private static List<string> BuildEnvironment(IReadOnlyDictionary<string, string> extra)
    {
        var own = OwnEnvironment.Value;
        var replaced = new HashSet<string>(extra.Keys, StringComparer.Ordinal); // whatever the caller's comparer
        var lines = new List<string>(own.Length + extra.Count);
        foreach (var (name, line) in own)
        {
            if (!replaced.Contains(name))
            {
                lines.Add(line);
            }
        }

        foreach (var (name, value) in extra)
        {
            lines.Add(name + "=" + value);
        }

        return lines;
    }

    // The same stream Process uses for its pipes: async reads go through the runtime's epoll loop, not a blocked thread.
    private static AnonymousPipeClientStream OpenPipe(int fd) => new(PipeDirection.In, new SafePipeHandle(fd, ownsHandle: true));

    private static Stream OpenPipe(int fd, List<byte[]> already) =>
        already.Count == 0 ? OpenPipe(fd) : new PrefixedStream([.. already.SelectMany(c => c)], OpenPipe(fd));

    /// <summary>What was read of a pipe before it was handed over, then the rest of it.</summary>
    internal sealed class PrefixedStream(byte[] prefix, Stream rest) : ReadOnlyStream
    {
        private int _offset;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            _offset < prefix.Length ? ValueTask.FromResult(TakePrefix(buffer.Span)) : rest.ReadAsync(buffer, cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) =>
            _offset < prefix.Length ? TakePrefix(buffer.AsSpan(offset, count)) : rest.Read(buffer, offset, count);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                rest.Dispose();
            }

            base.Dispose(disposing);
        }

        private int TakePrefix(Span<byte> buffer)
        {
            var count = Math.Min(buffer.Length, prefix.Length - _offset);
            prefix.AsSpan(_offset, count).CopyTo(buffer);
            _offset += count;
            return count;
        }
    }

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux() || Environment.ProcessId == 1 || Environment.GetEnvironmentVariable("UET_SPAWN") == "process")
        {
            return false;
        }

        try
        {
            var attr = stackalloc byte[AttrBytes];
            var actions = stackalloc byte[ActionsBytes];
            if (SpawnAttrInit(attr) != 0)
            {
                return false;
            }

            // An older glibc refuses a flag it does not know with EINVAL instead of ignoring it.
            var setsid = SpawnAttrSetFlags(attr, SpawnSetSid | SpawnSetSigDefault | SpawnSetSigMask) == 0;
            _ = SpawnAttrDestroy(attr);
            if (!setsid || SpawnFileActionsInit(actions) != 0)
            {
                return false;
            }

            var chdir = SpawnFileActionsAddChdir(actions, "/") == 0;
            _ = SpawnFileActionsDestroy(actions);
            var pidfd = (int)Syscall(SysPidfdOpen, Environment.ProcessId, 0);
            if (pidfd >= 0)
            {
                _ = Close(pidfd);
            }

            return chdir && pidfd >= 0;
        }
        catch (EntryPointNotFoundException)
        {
            return false; // not glibc, or one older than 2.29
        }
        catch (DllNotFoundException)
        {
            return false;
        }
    }

    private static bool ProbeCloseFrom()
    {
        try
        {
            var actions = stackalloc byte[ActionsBytes];
            _ = SpawnFileActionsInit(actions);
            var ok = SpawnFileActionsAddCloseFrom(actions, 3) == 0;
            _ = SpawnFileActionsDestroy(actions);
            return ok;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>argv/envp for exec: one native block holding the pointer array (null-terminated) and the UTF-8 strings.</summary>
    private static class NativeStrings
    {
        public static byte** Create(IReadOnlyList<string> strings)
        {
            var pointerBytes = (nuint)((strings.Count + 1) * sizeof(byte*));
            nuint textBytes = 0;
            foreach (var text in strings)
            {
                textBytes += (nuint)Encoding.UTF8.GetByteCount(text) + 1;
            }

            var block = (byte**)NativeMemory.Alloc(pointerBytes + textBytes);
            var next = (byte*)block + pointerBytes;
            var end = next + textBytes;
            for (var i = 0; i < strings.Count; i++)
            {
                block[i] = next;
                var length = Encoding.UTF8.GetBytes(strings[i], new Span<byte>(next, (int)(end - next)));
                next[length] = 0;
                next += length + 1;
            }

            block[strings.Count] = null;
            return block;
        }
    }

    [LibraryImport(Libc, EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport(Libc, EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport(Libc, EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2(int* fds, int flags);

    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long first, long second);

    [LibraryImport(Libc, EntryPoint = "waitpid", SetLastError = true)]
    private static partial int WaitPid(int pid, int* status, int options);

    [LibraryImport(Libc, EntryPoint = "posix_spawn", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int PosixSpawn(int* pid, string path, void* actions, void* attr, byte** argv, byte** envp);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_init")]
    private static partial int SpawnFileActionsInit(void* actions);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_destroy")]
    private static partial int SpawnFileActionsDestroy(void* actions);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_addopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SpawnFileActionsAddOpen(void* actions, int fd, string path, int flags, uint mode);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_adddup2")]
    private static partial int SpawnFileActionsAddDup2(void* actions, int fd, int newFd);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_addchdir_np", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SpawnFileActionsAddChdir(void* actions, string path);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_addclosefrom_np")]
    private static partial int SpawnFileActionsAddCloseFrom(void* actions, int from);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_init")]
    private static partial int SpawnAttrInit(void* attr);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_destroy")]
    private static partial int SpawnAttrDestroy(void* attr);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_setflags")]
    private static partial int SpawnAttrSetFlags(void* attr, short flags);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_setsigdefault")]
    private static partial int SpawnAttrSetSigDefault(void* attr, void* signals);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_setsigmask")]
    private static partial int SpawnAttrSetSigMask(void* attr, void* signals);

    [LibraryImport(Libc, EntryPoint = "sigemptyset")]
    private static partial int SignalEmptySet(void* set);

    [LibraryImport(Libc, EntryPoint = "sigaddset")]
    private static partial int SignalAddSet(void* set, int signal);
}
