using Uet.Git;
using Uet.State.Sqlite;

namespace Uet.Config;

/// <summary>What <c>uet init</c> did to one path.</summary>
public sealed record InitStep(string Path, bool Created, string What);

/// <summary>
/// Prepares a repository for uet: the config with every default written out, the state, log and worktree folders,
/// and git's exclude list so none of uet's own files ever show up as changes. Safe to run again: what exists is kept.
/// </summary>
public static class ProjectInitializer
{
    public const string ConfigRelativePath = ".uet/config.yaml";

    public static async Task<IReadOnlyList<InitStep>> InitAsync(string directory, TimeProvider clock, CancellationToken cancellationToken)
    {
        var workspace = await Workspace.FindAsync(directory, cancellationToken).ConfigureAwait(false);
        var root = workspace.Root;
        var steps = new List<InitStep>();

        var configPath = Path.Combine(root, ConfigRelativePath);
        UetConfig config;
        if (File.Exists(configPath))
        {
            // An existing config is the user's: never rewritten, but it must be valid to take its folders from it.
            config = ConfigLoader.LoadFile(configPath);
            steps.Add(new InitStep(ConfigRelativePath, false, "config kept as it is"));
        }
        else
        {
            Directory.CreateDirectory(Path.GetDirectoryName(configPath)!);
            await WriteNewFileAsync(configPath, DefaultConfigYaml.Text, cancellationToken).ConfigureAwait(false);
            config = UetConfig.Default;
            steps.Add(new InitStep(ConfigRelativePath, true, "config with every default written out"));
        }

        var stateDir = Path.GetDirectoryName(config.Execution.StateDb);
        var folders = new (string Path, string What)[]
        {
            (string.IsNullOrEmpty(stateDir) ? "." : stateDir, "state database folder"),
            (config.Execution.LogDir, "logs"),
            (config.Isolation.WorktreeDir, "worktrees of running tasks"),
            (config.Execution.WorkstreamDir, "workstream files"),
        };
        foreach (var (relative, what) in folders.Where(f => f.Path != "."))
        {
            var full = Path.Combine(root, relative);
            var created = !Directory.Exists(full);
            Directory.CreateDirectory(full);
            steps.Add(new InitStep(relative.TrimEnd('/') + "/", created, what));
        }

        // The state database (with its -wal/-shm companions), logs, worktrees, the patch ledger and the reports must never become part of a change.
        var wanted = new[]
            {
                string.IsNullOrEmpty(stateDir) ? ExcludeLine(root, config.Execution.StateDb, folder: false) : ExcludeLine(root, stateDir, folder: true),
                ExcludeLine(root, config.Execution.LogDir, folder: true),
                ExcludeLine(root, config.Isolation.WorktreeDir, folder: true),
                ExcludeLine(root, ".uet/ledger", folder: true),
                ExcludeLine(root, ".uet/reports", folder: true),
            }
            .OfType<string>()
            .ToList();
        var exclude = Path.Combine(workspace.GitCommonDirectory, "info", "exclude");
        var existing = File.Exists(exclude) ? await File.ReadAllLinesAsync(exclude, cancellationToken).ConfigureAwait(false) : [];
        var missing = wanted.Where(w => !existing.Contains(w, StringComparer.Ordinal)).ToList();
        if (missing.Count > 0)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(exclude)!);
            var prefix = existing.Length > 0 && !string.IsNullOrEmpty(existing[^1]) ? "\n" : string.Empty;
            await File.AppendAllTextAsync(exclude, prefix + "# uet: state, logs and worktrees are never part of a change\n"
                + string.Join("\n", missing) + "\n", cancellationToken).ConfigureAwait(false);
        }


        var databasePath = Path.Combine(root, config.Execution.StateDb);
        var databaseExisted = File.Exists(databasePath);
        await using (var store = SqliteStateStore.Open(databasePath, clock, create: true))
        {
            var before = databaseExisted ? await store.GetSchemaVersionAsync(cancellationToken).ConfigureAwait(false) : 0;
            await store.MigrateAsync(null, cancellationToken).ConfigureAwait(false);
            steps.Add(new InitStep(config.Execution.StateDb, !databaseExisted, before == store.LatestSchemaVersion
                ? $"state database, schema v{before}"
                : $"state database, schema v{before} -> v{store.LatestSchemaVersion}"));
        }

        steps.Add(new InitStep(".git/info/exclude", missing.Count > 0, missing.Count > 0 ? "added " + string.Join(", ", missing) : "already excludes uet's folders"));
        return steps;
    }

    /// <summary>An anchored exclude pattern for a path inside the repository; null for one outside it (git ignores those anyway).</summary>
    private static string? ExcludeLine(string root, string path, bool folder)
    {
        var relative = Path.GetRelativePath(root, Path.GetFullPath(Path.Combine(root, path))).Replace('\\', '/');
        if (relative == "." || relative.StartsWith("../", StringComparison.Ordinal) || relative == ".." || Path.IsPathRooted(relative))
        {
            return null;
        }

        return folder ? $"/{relative.TrimEnd('/')}/" : $"/{relative}*";
    }

    // CreateNew: if something appears at the path meanwhile, fail rather than overwrite it.
    private static async Task WriteNewFileAsync(string path, string text, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        await using var writer = new StreamWriter(stream);
        await writer.WriteAsync(text.AsMemory(), cancellationToken).ConfigureAwait(false);
    }
}
