using Uet.Config;
using Uet.Tests.Support;
using Xunit;

namespace Uet.Tests.Cli;

public sealed class InitCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Init_OutsideGit_Exits2AndCreatesNothing()
    {
        var result = CliRunner.Uet(_dir.Path, "init");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("is not inside a git repository", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir.Path));
    }

    [Fact]
    public void Init_InGitRepository_CreatesConfigFoldersAndExcludes()
    {
        CliRunner.Git(_dir.Path, "init", "-q");

        var result = CliRunner.Uet(_dir.Path, "init");

        Assert.True(result.ExitCode == 0, result.ToString());
        var config = Path.Combine(_dir.Path, ".uet", "config.yaml");
        Assert.Equal(UetConfig.Default, ConfigLoader.LoadFile(config));
        foreach (var folder in new[] { ".state", "logs/uet", ".worktrees", "workstreams" })
        {
            Assert.True(Directory.Exists(Path.Combine(_dir.Path, folder)), folder);
        }

        var exclude = File.ReadAllLines(Path.Combine(_dir.Path, ".git", "info", "exclude"));
        Assert.Contains("/.state/", exclude);
        Assert.Contains("/logs/uet/", exclude);
        Assert.Contains("/.worktrees/", exclude);

        // git itself agrees: nothing uet made shows up as untracked except the config.
        File.WriteAllText(Path.Combine(_dir.Path, ".state", "uet.db"), "x");
        var status = CliRunner.Run(_dir.Path, "git", ["status", "--porcelain", "--untracked-files=all"]);
        Assert.Equal("?? .uet/config.yaml", status.Stdout.Trim());
    }

    [Fact]
    public void Init_Twice_KeepsTheConfigAndDoesNotRepeatExcludes()
    {
        CliRunner.Git(_dir.Path, "init", "-q");
        Assert.Equal(0, CliRunner.Uet(_dir.Path, "init").ExitCode);
        var config = Path.Combine(_dir.Path, ".uet", "config.yaml");
        File.WriteAllText(config, "execution:\n  max_workers: 9\n");

        var second = CliRunner.Uet(_dir.Path, "init");

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal("execution:\n  max_workers: 9\n", File.ReadAllText(config));
        var exclude = File.ReadAllLines(Path.Combine(_dir.Path, ".git", "info", "exclude"));
        Assert.Single(exclude, l => l == "/.state/");
    }

    [Fact]
    public void Init_CustomPaths_ExcludesWhatIsInsideTheRepositoryOnly()
    {
        CliRunner.Git(_dir.Path, "init", "-q");
        var outside = Path.Combine(_dir.Path, "..", Path.GetFileName(_dir.Path) + "-logs");
        _dir.Write(".uet/config.yaml", $"execution:\n  state_db: uet.db\n  log_dir: {outside}\nisolation:\n  worktree_dir: tmp/wt\n");

        var result = CliRunner.Uet(_dir.Path, "init");

        try
        {
            Assert.True(result.ExitCode == 0, result.ToString());
            var exclude = File.ReadAllLines(Path.Combine(_dir.Path, ".git", "info", "exclude"));
            Assert.Contains("/uet.db*", exclude);
            Assert.Contains("/tmp/wt/", exclude);
            Assert.DoesNotContain(exclude, l => l.Contains("-logs", StringComparison.Ordinal) || l == "/.state/");
            File.WriteAllText(Path.Combine(_dir.Path, "uet.db"), "x");
            File.WriteAllText(Path.Combine(_dir.Path, "uet.db-wal"), "x");
            var status = CliRunner.Run(_dir.Path, "git", ["status", "--porcelain", "--untracked-files=all"]);
            Assert.Equal("?? .uet/config.yaml", status.Stdout.Trim());
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public void Init_FromSubfolder_InitializesTheRepositoryRoot()
    {
        CliRunner.Git(_dir.Path, "init", "-q");
        Directory.CreateDirectory(Path.Combine(_dir.Path, "src", "deep"));

        var result = CliRunner.Uet(Path.Combine(_dir.Path, "src", "deep"), "init");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(File.Exists(Path.Combine(_dir.Path, ".uet", "config.yaml")));
    }

    [Fact]
    public void AfterInit_ValidateAndPlanUseTheConfig()
    {
        CliRunner.Git(_dir.Path, "init", "-q");
        Assert.Equal(0, CliRunner.Uet(_dir.Path, "init").ExitCode);
        _dir.Write("workstreams/ws-a.json", """{ "id": "ws-a", "estimate": "2h" }""");
        _dir.Write("workstreams/ws-b.yaml", "id: ws-b\ndepends_on: [ws-a]\n");
        _dir.Write(".uet/config.yaml", "execution:\n  max_workers: 3\n");

        var validate = CliRunner.Uet(_dir.Path, "validate");
        var plan = CliRunner.Uet(_dir.Path, "plan");

        Assert.True(validate.ExitCode == 0, validate.ToString());
        Assert.Contains("ok: 2 workstreams loaded from 2 files", validate.Stdout, StringComparison.Ordinal);
        Assert.True(plan.ExitCode == 0, plan.ToString());
        Assert.Contains("2 workstreams in 2 waves, 3 workers", plan.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void BadConfig_Exits1WithKeyPath()
    {
        CliRunner.Git(_dir.Path, "init", "-q");
        _dir.Write(".uet/config.yaml", "execution:\n  max_workers: four\n");
        _dir.Write("workstreams/ws-a.json", """{ "id": "ws-a" }""");

        var result = CliRunner.Uet(_dir.Path, "plan");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("execution.max_workers", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(":2:", result.Stderr, StringComparison.Ordinal);
    }
}
