namespace Uet.Git;

/// <summary>Where a repository's parts are: its top folder and the git folder that holds <c>info/exclude</c>.</summary>
public sealed record Workspace(string Root, string GitCommonDirectory)
{
    /// <summary>The repository that contains <paramref name="directory"/>; a usage error when there is none.</summary>
    public static async Task<Workspace> FindAsync(string directory, CancellationToken cancellationToken)
    {
        var result = await GitCli.RunAsync(directory, ["rev-parse", "--show-toplevel", "--git-common-dir"], cancellationToken).ConfigureAwait(false);
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (result.ExitCode != 0 || lines.Length < 2)
        {
            throw UsageException.NotAGitRepository(Path.GetFullPath(directory));
        }

        var root = lines[0];
        var common = Path.IsPathRooted(lines[1]) ? lines[1] : Path.GetFullPath(Path.Combine(directory, lines[1]));
        return new Workspace(root, common);
    }

    /// <summary>The nearest folder at or above <paramref name="directory"/> that has a <c>.git</c> entry, else null. No process is started.</summary>
    public static string? FindRoot(string directory)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(directory)); dir is not null; dir = dir.Parent)
        {
            var git = Path.Combine(dir.FullName, ".git");
            if (Directory.Exists(git) || File.Exists(git))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
