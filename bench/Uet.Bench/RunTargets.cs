using System.Diagnostics;
using System.Globalization;
using Uet.Config;
using Uet.Execution;
using Uet.State.Sqlite;

namespace Uet.Bench;

/// <summary>The timed sides of the <c>run</c> suite: uet in a fresh repository, make, ninja, and a bare spawn loop.</summary>
internal static class RunTargets
{
    private static int _sequence;

    /// <summary>Where uet's state databases go; null = in each repository (<c>.state/uet.db</c>).</summary>
    public static string? StateDir { get; set; }

    /// <summary>Files of 4 KiB besides README.md in each repository uet runs in.</summary>
    public static int RepoFiles { get; set; }

    /// <summary>uet run of the DAG in a fresh one-commit repository; returns the run's own elapsed time in seconds.</summary>
    public static async Task<double> UetAsync(string root, RunDag dag, int workers, SqliteSynchronous synchronous)
    {
        var repo = Path.Combine(root, "repo-" + Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(repo);
        try
        {
            await File.WriteAllTextAsync(repo + "/README.md", "bench\n");
            for (var i = 0; i < RepoFiles; i++)
            {
                var folder = Path.Combine(repo, "src", "d" + (i / 100).ToString(CultureInfo.InvariantCulture));
                Directory.CreateDirectory(folder);
                await File.WriteAllTextAsync(Path.Combine(folder, $"f{i.ToString(CultureInfo.InvariantCulture)}.txt"), new string((char)('a' + (i % 26)), 4095) + "\n");
            }

            await GitAsync(repo, "init", "-q", "-b", "main");
            await GitAsync(repo, "add", ".");
            await GitAsync(repo, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q", "-m", "init");
            var ct = CancellationToken.None;
            var database = StateDir is null ? Path.Combine(repo, ".state", "uet.db") : Path.Combine(StateDir, Path.GetFileName(repo) + ".db");
            await using var store = SqliteStateStore.Open(database, TimeProvider.System, create: true, synchronous: synchronous);
            await store.MigrateAsync(null, ct);
            var config = ConfigLoader.Parse("isolation:\n  strategy: none\n");
            var workstreams = dag.Workstreams();
            var executor = new RunExecutor(repo, config, store, TimeProvider.System, Redactor.None, _ => { });
            var (ownBefore, childrenBefore) = Cpu();
            var summary = await executor.RunAsync(workstreams, new RunOptions(workers), ct);
            var (ownAfter, childrenAfter) = Cpu();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    uet run of {dag.Count} tasks on {workers} workers: {summary.Elapsed.TotalSeconds:F3} s; CPU per task: uet {(ownAfter - ownBefore).TotalMilliseconds / dag.Count:F3} ms, its tools {(childrenAfter - childrenBefore).TotalMilliseconds / dag.Count:F3} ms"));
            var completed = summary.Tasks.Count(t => t.Result == TaskResult.Completed);
            if (summary.State != "completed" || completed != dag.Count)
            {
                throw new InvalidOperationException($"uet run ended '{summary.State}' with {completed} of {dag.Count} tasks completed");
            }

            return summary.Elapsed.TotalSeconds;
        }
        finally
        {
            DeleteTree(repo);
        }
    }

    /// <summary>
    /// CPU time of this process so far, and of its reaped children (Linux: /proc/self/stat cutime + cstime, in clock
    /// ticks of 10 ms; zero elsewhere). Diagnostic: on 2 cores uet's per-task CPU and its tools' compete.
    /// </summary>
    private static (TimeSpan Own, TimeSpan Children) Cpu()
    {
        var own = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        if (!OperatingSystem.IsLinux())
        {
            return (own, TimeSpan.Zero);
        }

        // The fields after the command name (which may hold spaces, so split after its closing parenthesis).
        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
        return (own, TimeSpan.FromMilliseconds(ticks * 10));
    }

    /// <summary><c>make -r -j N -f Makefile all</c> in a fresh folder; null when make is not installed.</summary>
    public static Task<double?> MakeAsync(string root, RunDag dag, int workers) =>
        ToolAsync(root, "make", "Makefile", dag.Makefile(), ["-r", "-s", "-j" + workers.ToString(CultureInfo.InvariantCulture), "-f", "Makefile", "all"]);

    /// <summary><c>ninja -j N -f build.ninja</c> in a fresh folder; null when ninja is not installed.</summary>
    public static Task<double?> NinjaAsync(string root, RunDag dag, int workers) =>
        ToolAsync(root, "ninja", "build.ninja", dag.Ninja(), ["-j" + workers.ToString(CultureInfo.InvariantCulture), "-f", "build.ninja"]);

    /// <summary>Seconds for <paramref name="count"/> <c>Process.Start("true")</c> + wait, <paramref name="parallel"/> at a time.</summary>
    public static async Task<double> SpawnAsync(int count, int parallel)
    {
        var next = -1;
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) < count)
            {
                using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
                await process.WaitForExitAsync();
            }
        })));
        return stopwatch.Elapsed.TotalSeconds;
    }

    /// <summary>The same with uet's own spawner (<see cref="NativeSpawn"/>: posix_spawn, own session, output read to the end); null where it is not available.</summary>
    public static async Task<double?> SpawnNativeAsync(int count, int parallel)
    {
        if (!NativeSpawn.IsAvailable)
        {
            return null;
        }

        var program = FindOnPath("true")!;
        var next = -1;
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) < count)
            {
                using var child = NativeSpawn.Start(program, ["true"], Path.GetTempPath(), new Dictionary<string, string>(), null, out var error)
                    ?? throw new InvalidOperationException(error);
                await Task.WhenAll(child.Output.CopyToAsync(Stream.Null), child.Exit);
            }
        })));
        return stopwatch.Elapsed.TotalSeconds;
    }

    public static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);

    public static async Task<string> VersionAsync(string tool)
    {
        if (FindOnPath(tool) is null)
        {
            return "not installed";
        }

        var (_, output) = await ExecAsync(Path.GetTempPath(), tool, ["--version"]);
        return output.Split('\n')[0].Trim();
    }

    private static async Task<double?> ToolAsync(string root, string tool, string file, string text, IReadOnlyList<string> args)
    {
        if (FindOnPath(tool) is null)
        {
            return null;
        }

        var folder = Path.Combine(root, tool + "-" + Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(folder);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, file), text);
            // The tool's output (ninja's "[k/N] true" line per edge) goes to a file, not through a pipe to this process:
            // reading it here woke this process's threads thousands of times, on the cores the tool was timed on,
            // and made ninja 20-40 % slower than in a shell. uet's own tools' output is read, as it must be.
            var log = Path.Combine(folder, "output.log");
            var stopwatch = Stopwatch.StartNew();
            var (code, _) = await ExecAsync(folder, "/bin/sh", ["-c", "exec \"$0\" \"$@\" > output.log 2>&1", tool, .. args]);
            var seconds = stopwatch.Elapsed.TotalSeconds;
            if (code != 0)
            {
                var output = File.Exists(log) ? await File.ReadAllTextAsync(log) : string.Empty;
                throw new InvalidOperationException($"{tool} exited {code}: {output[..Math.Min(output.Length, 2000)]}");
            }

            return seconds;
        }
        finally
        {
            DeleteTree(folder);
        }
    }

    internal static async Task GitAsync(string repo, params string[] args)
    {
        var (code, output) = await ExecAsync(repo, "git", args);
        if (code != 0)
        {
            throw new InvalidOperationException($"git {string.Join(' ', args)} exited {code}: {output}");
        }
    }

    internal static async Task<(int Code, string Output)> ExecAsync(string cwd, string file, IReadOnlyList<string> args)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = cwd,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, (await stdout) + (await stderr));
    }

    private static void DeleteTree(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }
}
