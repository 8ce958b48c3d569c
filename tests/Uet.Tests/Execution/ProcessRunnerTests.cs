using Uet.Execution;
using Uet.Tests.Support;
using Xunit;

namespace Uet.Tests.Execution;

public sealed class ProcessRunnerTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Log => Path.Combine(_dir.Path, "logs", "1.log");

    /// <summary>Both ways of starting a program where the native one exists (Linux with glibc), else the fallback alone.</summary>
    public static TheoryData<bool> Spawners => NativeSpawn.IsAvailable ? new TheoryData<bool> { true, false } : new TheoryData<bool> { false };

    private Task<ProcessOutcome> RunAsync(bool native, string script, TimeSpan? timeout = null, long cap = 1 << 20, Redactor? redactor = null, Dictionary<string, string>? environment = null) =>
        RunArgvAsync(native, ["sh", "-c", script], timeout: timeout, cap: cap, redactor: redactor, environment: environment);

    private Task<ProcessOutcome> RunArgvAsync(bool native, string[] argv, string? workingDirectory = null, TimeSpan? timeout = null, long cap = 1 << 20, Redactor? redactor = null, Dictionary<string, string>? environment = null, string? log = null) =>
        ProcessRunner.RunAsync(
            new ProcessSpec(argv, workingDirectory ?? _dir.Path, environment ?? [], timeout, log ?? Log, cap),
            redactor ?? Redactor.None,
            TimeProvider.System,
            native,
            CancellationToken.None);

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_ExitCodeOutputAndArgvHeaderInTheLog(bool native)
    {
        var outcome = await RunAsync(native, "echo out; echo err >&2; exit 4");

        Assert.Equal(4, outcome.ExitCode);
        Assert.False(outcome.Succeeded);
        var log = await File.ReadAllTextAsync(Log);
        Assert.Contains("# $ sh -c 'echo out; echo err >&2; exit 4'", log, StringComparison.Ordinal);
        Assert.Contains("out\n", log, StringComparison.Ordinal);
        Assert.Contains("err\n", log, StringComparison.Ordinal);
        Assert.Contains("# uet: exit code 4", log, StringComparison.Ordinal);
        Assert.Contains("err", outcome.Tail, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_SilentSuccess_LeavesNoLogNorFolder_SilentFailure_IsLogged(bool native)
    {
        var silent = await RunAsync(native, "exit 0");

        Assert.True(silent.Succeeded);
        Assert.False(Directory.Exists(Path.GetDirectoryName(Log)));

        var failed = await RunAsync(native, "exit 3");

        Assert.Equal(3, failed.ExitCode);
        Assert.Equal(["# $ sh -c 'exit 3'  (in " + _dir.Path + ")", "# uet: exit code 3 after"], File.ReadAllLines(Log).Select(l => l.Split(" after ")[0] + (l.Contains(" after ", StringComparison.Ordinal) ? " after" : string.Empty)));
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_OutputMakesTheLog_WithTheCommandLineFirst(bool native)
    {
        await RunAsync(native, "exit 0");
        var outcome = await RunAsync(native, "echo said");

        Assert.True(outcome.Succeeded);
        var lines = File.ReadAllLines(Log);
        Assert.Equal(3, lines.Length);
        Assert.Equal("# $ sh -c 'echo said'  (in " + _dir.Path + ")", lines[0]);
        Assert.Equal("said", lines[1]);
        Assert.StartsWith("# uet: exit code 0 after ", lines[2], StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_StdinFromAFile_AnyLength_ElseEmpty(bool native)
    {
        var big = string.Concat(Enumerable.Range(0, 20_000).Select(i => $"line {i} of the prompt\n"));
        var input = _dir.Write("prompt.md", big);
        var spec = new ProcessSpec(["sh", "-c", "wc -c"], _dir.Path, new Dictionary<string, string>(), null, Log, 1 << 20, input);

        var outcome = await ProcessRunner.RunAsync(spec, Redactor.None, TimeProvider.System, native, CancellationToken.None);

        Assert.True(outcome.Succeeded, outcome.Describe());
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(big).ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllLines(Log)[1].Trim());
        var empty = await RunAsync(native, "wc -c");
        Assert.True(empty.Succeeded);
        Assert.Equal("0", File.ReadAllLines(Log)[4].Trim());
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_StdinFileMissing_FailsToStartAndSaysWhichFile(bool native)
    {
        var missing = Path.Combine(_dir.Path, "gone.prompt.md");
        var spec = new ProcessSpec(["cat"], _dir.Path, new Dictionary<string, string>(), TimeSpan.FromSeconds(30), Log, 1 << 20, missing);

        var outcome = await ProcessRunner.RunAsync(spec, Redactor.None, TimeProvider.System, native, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.False(outcome.Succeeded);
        Assert.StartsWith($"cannot start 'cat': its input file {missing} cannot be read: ", outcome.StartError, StringComparison.Ordinal);
        Assert.Contains(outcome.StartError!, File.ReadAllText(Log), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_OnceTheLogExists_ASilentSuccessIsInItToo(bool native)
    {
        await RunAsync(native, "echo tool-said-this");
        await RunAsync(native, "exit 0");

        var lines = File.ReadAllLines(Log);
        Assert.Equal(5, lines.Length);
        Assert.Equal("# $ sh -c 'exit 0'  (in " + _dir.Path + ")", lines[3]);
        Assert.StartsWith("# uet: exit code 0 after ", lines[4], StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_ArgumentsReachTheProgramUnchanged_NoShellInBetween(bool native)
    {
        var outcome = await RunArgvAsync(native, ["printf", "%s|", "a b", "$HOME", "; rm -rf /", "'q'"]);

        Assert.True(outcome.Succeeded);
        Assert.Contains("a b|$HOME|; rm -rf /|'q'|", await File.ReadAllTextAsync(Log), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_LogCapped_SaysSoOnceAndStillFinishes(bool native)
    {
        var outcome = await RunAsync(native, "i=0; while [ $i -lt 5000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done", cap: 10_000);

        Assert.True(outcome.Succeeded);
        Assert.True(outcome.LogTruncated);
        var size = new FileInfo(Log).Length;
        Assert.InRange(size, 10_000, 12_000);
        Assert.Single(File.ReadAllLines(Log), l => l.Contains("log truncated at 10000 bytes", StringComparison.Ordinal));
        Assert.Contains("line-4999", outcome.Tail, StringComparison.Ordinal); // the tail is the real end, not the cut
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_OneEndlessLine_CapHoldsAndTailStaysSmall(bool native)
    {
        // 20 MB without a newline.
        var outcome = await RunAsync(native, "head -c 20000000 /dev/zero | tr '\\0' x", cap: 100_000);

        Assert.True(outcome.Succeeded);
        Assert.True(outcome.LogTruncated);
        Assert.InRange(new FileInfo(Log).Length, 100_000, 110_000);
        Assert.True(outcome.Tail.Length < 10_000, $"tail is {outcome.Tail.Length} chars");
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_ProgramLeavesAChildHoldingItsOutput_ChildKilledAndRunEnds(bool native)
    {
        var pidFile = Path.Combine(_dir.Path, "child.pid");
        var started = System.Diagnostics.Stopwatch.StartNew();

        var outcome = await RunAsync(native, $"sleep 60 & echo $! > {pidFile}; exit 0", timeout: TimeSpan.FromSeconds(30));

        Assert.True(outcome.Succeeded);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(15), $"took {started.Elapsed}");
        var child = (await File.ReadAllTextAsync(pidFile)).Trim();
        await Task.Delay(200);
        Assert.True(ProcessProbe.IsGone(child), $"child {child} survived");
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_Timeout_KillsTheWholeProcessTree(bool native)
    {
        var pidFile = Path.Combine(_dir.Path, "child.pid");

        var outcome = await RunAsync(native, $"sleep 60 & echo $! > {pidFile}; wait", timeout: TimeSpan.FromSeconds(1));

        Assert.True(outcome.TimedOut);
        Assert.Contains("timed out", outcome.Describe(), StringComparison.Ordinal);
        var child = int.Parse((await File.ReadAllTextAsync(pidFile)).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        await Task.Delay(200);
        Assert.True(ProcessProbe.IsGone(child), $"child {child} still alive");
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_MissingProgram_ClearErrorNoException(bool native)
    {
        var outcome = await RunArgvAsync(native, ["no-such-program-uet"]);

        Assert.False(outcome.Succeeded);
        Assert.Contains("cannot start 'no-such-program-uet'", outcome.Describe(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Spawners))]
    public async Task Run_SecretsFromTheEnvironment_ReachTheToolButNeverTheLog(bool native)
    {
        var secret = "sk-live-0123456789abcdef";
        var redactor = Redactor.FromVariables([KeyValuePair.Create<string, string?>("OPENAI_API_KEY", secret), KeyValuePair.Create<string, string?>("PATH", "/usr/bin")]);
        var proof = Path.Combine(_dir.Path, "seen.txt");

        var outcome = await RunAsync(native, $"echo \"key is $OPENAI_API_KEY\"; printf %s \"$OPENAI_API_KEY\" > {proof}", redactor: redactor, environment: new() { ["OPENAI_API_KEY"] = secret });

        Assert.True(outcome.Succeeded);
        Assert.Equal(secret, await File.ReadAllTextAsync(proof)); // the tool got it
        var log = await File.ReadAllTextAsync(Log);
        Assert.DoesNotContain(secret, log, StringComparison.Ordinal);
        Assert.Contains("key is ***", log, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, outcome.Tail, StringComparison.Ordinal);
    }
}
