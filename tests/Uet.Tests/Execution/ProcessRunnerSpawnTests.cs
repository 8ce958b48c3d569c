using System.Collections;
using System.Globalization;
using Uet.Execution;
using Uet.Tests.Support;
using Xunit;

namespace Uet.Tests.Execution;

/// <summary>How a program is started: its own session, exactly the environment and folder asked for, reaped with its own status.</summary>
public sealed class ProcessRunnerSpawnTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<bool> Spawners => ProcessRunnerTests.Spawners;

    private string Log => Path.Combine(_dir.Path, "logs", "1.log");

    private Task<ProcessOutcome> RunAsync(bool native, string[] argv, string? workingDirectory = null, Dictionary<string, string>? environment = null, string? log = null) =>
        ProcessRunner.RunAsync(
            new ProcessSpec(argv, workingDirectory ?? _dir.Path, environment ?? [], TimeSpan.FromSeconds(60), log ?? Log, 1 << 20),
            Redactor.None,
            TimeProvider.System,
            native,
            CancellationToken.None);

    private NativeChild StartShell(string script, int? followMilliseconds = null) =>
        NativeSpawn.Start("/bin/sh", ["sh", "-c", script], _dir.Path, new Dictionary<string, string>(), null, out var error, followMilliseconds)
            ?? throw new InvalidOperationException(error);

    private string[] OutputLines() => File.ReadAllLines(Log).Where(l => !l.StartsWith("# ", StringComparison.Ordinal)).ToArray();

    [Fact]
    public void NativeSpawn_OnLinuxWithGlibc_IsAvailable()
    {
        if (OperatingSystem.IsLinux() && File.Exists("/lib/x86_64-linux-gnu/libc.so.6") && Environment.GetEnvironmentVariable("UET_SPAWN") is null)
        {
            Assert.True(NativeSpawn.IsAvailable);
        }
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_Program_LeadsItsOwnSessionAndProcessGroup(bool native)
    {
        var outcome = await RunAsync(native, ["sh", "-c", "cut -d ' ' -f 1,5,6 /proc/$$/stat"]);

        Assert.True(outcome.Succeeded, outcome.Describe());
        var fields = OutputLines().Single().Split(' ');
        Assert.Equal(fields[0], fields[1]); // pgrp = its pid
        Assert.Equal(fields[0], fields[2]); // session = its pid
        var ourSession = File.ReadAllText("/proc/self/stat").Split(") ")[1].Split(' ')[3];
        Assert.NotEqual(ourSession, fields[2]);
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_Environment_IsOursWithTheSpecsOnTop_Exactly(bool native)
    {
        var extra = new Dictionary<string, string> { ["UET_TEST_VALUE"] = "a b=c ü", ["HOME"] = "/nowhere" };
        var expected = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? string.Empty, StringComparer.Ordinal);
        foreach (var (name, value) in extra)
        {
            expected[name] = value;
        }

        var outcome = await RunAsync(native, ["env"], environment: extra);

        Assert.True(outcome.Succeeded, outcome.Describe());
        var lines = OutputLines();
        foreach (var (name, value) in expected.Where(e => !e.Value.Contains('\n', StringComparison.Ordinal)))
        {
            Assert.Contains($"{name}={value}", lines);
        }

        var names = lines.Where(l => l.Contains('=', StringComparison.Ordinal)).Select(l => l[..l.IndexOf('=', StringComparison.Ordinal)]);
        Assert.All(names, name => Assert.True(expected.ContainsKey(name) || expected.Values.Any(v => v.Contains('\n', StringComparison.Ordinal)), $"unexpected variable {name}"));
        Assert.Single(lines, l => l.StartsWith("HOME=", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_WorkingDirectory_IsTheSpecs(bool native)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir.Path, "with space")).FullName;

        var outcome = await RunAsync(native, ["sh", "-c", "echo hi > here.txt; pwd"], workingDirectory: folder);

        Assert.True(outcome.Succeeded, outcome.Describe());
        Assert.True(File.Exists(Path.Combine(folder, "here.txt")));
        Assert.EndsWith("/with space", OutputLines().Single(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_MissingWorkingDirectory_ClearStartError(bool native)
    {
        var outcome = await RunAsync(native, ["sh", "-c", "exit 0"], workingDirectory: Path.Combine(_dir.Path, "nope"));

        Assert.False(outcome.Succeeded);
        Assert.NotNull(outcome.StartError);
        Assert.StartsWith("cannot start 'sh'", outcome.StartError, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_ProgramNotExecutable_Fails_ClearStartErrorWhenNative(bool native)
    {
        await File.WriteAllTextAsync(Path.Combine(_dir.Path, "tool.sh"), "#!/bin/sh\nexit 0\n");

        var outcome = await RunAsync(native, ["./tool.sh"]);

        Assert.False(outcome.Succeeded);
        if (native)
        {
            // Behind setsid (the fallback) this is setsid's own exit code 126.
            Assert.Equal("cannot start './tool.sh': Permission denied", outcome.StartError);
        }
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_ScriptWithoutInterpreterLine_RunBySh(bool native)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var script = Path.Combine(_dir.Path, "tool");
        await File.WriteAllTextAsync(script, "echo \"from the script: $1\"\nexit 3\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var outcome = await RunAsync(native, ["./tool", "arg"]);

        Assert.Equal(3, outcome.ExitCode);
        Assert.Equal("from the script: arg", outcome.Tail);
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_KilledBySignal_ExitCodeIs128PlusTheSignal(bool native)
    {
        var outcome = await RunAsync(native, ["sh", "-c", "kill -TERM $$"]);

        Assert.Equal(143, outcome.ExitCode);
        Assert.False(outcome.TimedOut);
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_ProgramEnded_ReapedNoZombieLeft(bool native)
    {
        var outcome = await RunAsync(native, ["sh", "-c", "echo $$"]);

        Assert.True(outcome.Succeeded, outcome.Describe());
        var pid = OutputLines().Single();
        Assert.False(Directory.Exists($"/proc/{pid}"), $"pid {pid} still exists (a zombie?)");
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_Program_NoSignalBlockedStdinAtEndOfInput(bool native)
    {
        // The program's own status (not a shell's: dash blocks every signal while it waits for a child).
        var outcome = await RunAsync(native, ["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"]);
        var readOutcome = await RunAsync(native, ["sh", "-c", "read line; echo \"read:$?\""], log: Path.Combine(_dir.Path, "logs", "2.log"));

        Assert.True(outcome.Succeeded, outcome.Describe());
        Assert.Equal(0UL, StatusMask(OutputLines(), "SigBlk"));
        Assert.Equal("read:1", readOutcome.Tail); // end of input at once: nothing to wait for
    }

    [Fact]
    public async Task Run_NativeChild_SigpipeDefaultOnlyStdioOpenStdinDevNull()
    {
        if (!NativeSpawn.IsAvailable)
        {
            return;
        }

        var status = await RunAsync(true, ["grep", "-E", "^SigIgn", "/proc/self/status"], log: Path.Combine(_dir.Path, "logs", "status.log"));
        var fds = await RunAsync(true, ["ls", "/proc/self/fd"], log: Path.Combine(_dir.Path, "logs", "fds.log"));
        var stdin = await RunAsync(true, ["readlink", "/proc/self/fd/0"], log: Path.Combine(_dir.Path, "logs", "stdin.log"));

        // .NET ignores SIGPIPE in uet; a tool gets the default (Process left it ignored when uet itself inherited it so).
        Assert.Equal(0UL, StatusMask(status.Tail.Split('\n'), "SigIgn") & (1UL << (13 - 1)));
        Assert.Equal(["0", "1", "2", "3"], fds.Tail.Split('\n')); // 3 is ls's own listing of the folder: nothing of uet's leaks
        Assert.Equal("/dev/null", stdin.Tail);
    }

    [Fact]
    public async Task Run_NativeChild_StdoutAndStderrInTheOrderWritten()
    {
        if (!NativeSpawn.IsAvailable)
        {
            return;
        }

        var outcome = await RunAsync(true, ["sh", "-c", "echo one; echo two >&2; echo three; echo four >&2"]);

        Assert.True(outcome.Succeeded, outcome.Describe());
        Assert.Equal(["one", "two", "three", "four"], OutputLines());
    }

    [Fact]
    public async Task NativeChild_OutputPastTheReadersLead_AllOfItArrives_ThenTheChildEnds()
    {
        // 6 MB through the pipe the reaper reads, taken by a reader slower than the writer: the reaper stops reading
        // past 1 MiB unread and starts again as the reader catches up. Every byte arrives, in order, and the child ends.
        if (!NativeSpawn.IsAvailable)
        {
            return;
        }

        const int Total = 6_000_000;
        // Followed first (up to 256 KiB are read by the spawning thread), then handed to the reaper with what was read.
        using var child = StartShell($"head -c {Total} /dev/zero | tr '\\0' 'x'; echo end", 30_000);
        var buffer = new byte[100_000];
        long received = 0;
        var lastByte = (byte)0;
        int read;
        while ((read = await child.Output.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromMinutes(1))) > 0)
        {
            Assert.All(buffer.AsSpan(0, read).ToArray().Where(b => b != (byte)'x'), b => Assert.True(b is (byte)'e' or (byte)'n' or (byte)'d' or (byte)'\n'));
            received += read;
            lastByte = buffer[read - 1];
            if (received < 3_000_000)
            {
                await Task.Delay(2); // slower than the writer for the first half
            }
        }

        Assert.Equal(Total + "end\n".Length, received);
        Assert.Equal((byte)'\n', lastByte);
        Assert.Equal(0, NativeChild.ExitCode((await child.Exit.WaitAsync(TimeSpan.FromMinutes(1)))!.Value));
    }

    [Fact]
    public async Task NativeChild_OutputClosedWhileTheChildWrites_ChildGetsSigpipe_NoDescriptorLeft()
    {
        if (!NativeSpawn.IsAvailable)
        {
            return;
        }

        // Tests run in parallel and open descriptors of their own: look for this pipe by its inode, not at a count.
        static string[] OpenTargets() => Directory.GetFiles("/proc/self/fd")
            .Select(fd => { try { return new FileInfo(fd).LinkTarget ?? string.Empty; } catch (IOException) { return string.Empty; } })
            .ToArray();
        for (var i = 0; i < 20; i++)
        {
            var child = NativeSpawn.Start("/usr/bin/yes", ["yes"], _dir.Path, new Dictionary<string, string>(), null, out var error)
                ?? throw new InvalidOperationException(error);
            var pipe = new FileInfo($"/proc/self/fd/{((OutputPipe)child.Output).Fd}").LinkTarget!; // "pipe:[inode]"
            Assert.StartsWith("pipe:[", pipe, StringComparison.Ordinal);
            var buffer = new byte[10];
            Assert.True(await child.Output.ReadAsync(buffer) > 0);
            child.Dispose(); // the reader goes away; the pipe's read end is closed

            var status = await child.Exit.WaitAsync(TimeSpan.FromSeconds(30)); // a writer on a closed pipe dies, never hangs
            Assert.Equal(128 + 13, NativeChild.ExitCode(status!.Value)); // SIGPIPE
            Assert.DoesNotContain(pipe, OpenTargets());
        }
    }

    [Fact]
    public async Task NativeChild_EndsWhileFollowed_ComesBackReapedWithAllItsOutput()
    {
        if (!NativeSpawn.IsAvailable)
        {
            return;
        }

        using var child = StartShell("echo one; echo two >&2; exit 4", 30_000);

        Assert.True(child.Exit.IsCompleted); // nothing left to wait for: no hop to the reaper's thread and back
        Assert.Equal(4, NativeChild.ExitCode((await child.Exit)!.Value));
        Assert.Equal("one\ntwo\n", await new StreamReader(child.Output).ReadToEndAsync());
    }

    [Fact]
    public async Task NativeChild_StillRunningAfterTheFollow_HandedOverWithWhatItHadWritten()
    {
        if (!NativeSpawn.IsAvailable)
        {
            return;
        }

        // "first" is read by the spawning thread during its second of following; "second" by the reaper after it.
        using var child = StartShell("echo first; sleep 1.5; echo second; exit 3", 1000);

        Assert.False(child.Exit.IsCompleted);
        Assert.Equal("first\nsecond\n", await new StreamReader(child.Output).ReadToEndAsync().WaitAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal(3, NativeChild.ExitCode((await child.Exit.WaitAsync(TimeSpan.FromMinutes(1)))!.Value));
    }

    [Fact]
    public async Task NativeChild_EndsWhileFollowed_WhatItLeftHoldingItsOutputIsKilled()
    {
        if (!NativeSpawn.IsAvailable)
        {
            return;
        }

        // The sleep holds the output pipe open; the follow kills the group the moment sh has exited, so the output
        // ends then, not in a minute (nor at the end of the follow's 60 s).
        var started = System.Diagnostics.Stopwatch.StartNew();
        using var child = StartShell("sleep 60 & echo started", 60_000);

        Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), $"followed for {started.Elapsed}");
        Assert.True(child.Exit.IsCompleted);
        Assert.Equal("started\n", await new StreamReader(child.Output).ReadToEndAsync());
    }

    [Fact]
    public async Task PrefixedStream_GivesWhatWasReadBeforeTheHandOver_ThenTheRest_InOrder()
    {
        // The output of a child handed over when its pipe cannot be watched by the reaper (out of epoll memory).
        using var stream = new NativeSpawn.PrefixedStream("abc"u8.ToArray(), new MemoryStream("def"u8.ToArray()));
        var pieces = new List<string>();
        var buffer = new byte[2];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            pieces.Add(System.Text.Encoding.ASCII.GetString(buffer, 0, read));
        }

        Assert.Equal(["ab", "c", "de", "f"], pieces);
    }

    private static ulong StatusMask(IEnumerable<string> lines, string name) =>
        ulong.Parse(lines.Single(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    [Fact]
    public async Task Run_ManyConcurrentSpawnsFromSeveralThreads_EachReapedWithItsOwnExitCode()
    {
        // Both spawners at once: .NET's SIGCHLD handling for its own children and the pidfd reaper for ours must not
        // take each other's statuses.
        var runs = Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            var native = NativeSpawn.IsAvailable && i % 10 != 0;
            var log = Path.Combine(_dir.Path, "logs", $"{i}.log");
            var outcome = await RunAsync(native, ["sh", "-c", $"exit {i % 256}"], log: log);
            return (Expected: i % 256, outcome.ExitCode);
        })).ToArray();

        var results = await Task.WhenAll(runs).WaitAsync(TimeSpan.FromMinutes(2)); // a lost child fails, not hangs

        Assert.All(results, r => Assert.Equal(r.Expected, r.ExitCode));
    }
}
