using Microsoft.Data.Sqlite;
using Uet.Tests.Support;
using Xunit;

namespace Uet.Tests.Cli;

/// <summary><c>uet demo</c>, the README's first command, as a user runs it.</summary>
public sealed class DemoCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    [Fact]
    public void Demo_RunsTheWholePipelineAsDesigned()
    {
        var folder = Path.Combine(_dir.Path, "demo");
        var started = System.Diagnostics.Stopwatch.StartNew();

        var result = CliRunner.Uet(_dir.Path, "demo", "--dir", folder);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(started.Elapsed < TimeSpan.FromMinutes(2), $"took {started.Elapsed}");
        Assert.Contains("37 workstreams in 8 waves", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("rolled_back ws-cmd-debug  validator tests failed", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("quarantined ws-cleanup-tmp", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("blocked     ws-docs-debug", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("34 completed", result.Stdout, StringComparison.Ordinal);

        // The results pass the project's own tests, and contain the work of the committed workstreams only.
        var check = Path.Combine(_dir.Path, "check");
        Directory.CreateDirectory(check);
        var tests = CliRunner.Run(folder, "sh", ["-c", $"git archive uet/r-demo | tar -x -C {check} && cd {check} && sh tests/run.sh && sh tests/all.sh && test ! -e src/cmd/debug.sh && test ! -e notes.txt"]);
        Assert.True(tests.ExitCode == 0, tests.ToString());
        Assert.Equal("main", CliRunner.Run(folder, "git", ["symbolic-ref", "--short", "HEAD"]).Stdout.Trim());
    }

    [Fact]
    public void Demo_IntoAFolderThatIsNotEmpty_Refused()
    {
        _dir.Write("busy/file.txt", "x");

        var result = CliRunner.Uet(_dir.Path, "demo", "--dir", Path.Combine(_dir.Path, "busy"));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("is not empty", result.Stderr, StringComparison.Ordinal);
    }
}
