using System.CommandLine;
using Uet.Config;
using Uet.Git;
using Uet.State.Sqlite;

namespace Uet.Cli.Commands;

/// <summary>Which state database a command reads or writes: <c>--db</c>, else <c>execution.state_db</c> at the repository root.</summary>
internal sealed class StateOptions
{
    public Option<string?> Database { get; } = new("--db")
    {
        Description = "State database file (default: execution.state_db of the config, .state/uet.db at the repository root).",
    };

    public Option<string?> ConfigPath { get; } = new("--config")
    {
        Description = "Config file (default: .uet/config.yaml at the repository root).",
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Write machine-readable JSON to stdout.",
    };

    public void AddTo(Command command, bool json = true)
    {
        command.Options.Add(Database);
        command.Options.Add(ConfigPath);
        if (json)
        {
            command.Options.Add(Json);
        }
    }

    public string DatabasePath(ParseResult parse)
    {
        if (parse.GetValue(Database) is { } explicitPath)
        {
            return explicitPath;
        }

        return Path.Combine(Root(), LoadConfig(parse).Execution.StateDb);
    }

    /// <summary>The config: <c>--config</c> (which must exist), else <c>.uet/config.yaml</c> at the repository root.</summary>
    public UetConfig LoadConfig(ParseResult parse)
    {
        if (parse.GetValue(ConfigPath) is { } given && !File.Exists(given))
        {
            throw UsageException.PathNotFound(given);
        }

        return ConfigLoader.LoadFile(ConfigFile(parse));
    }

    /// <summary>The config file in use: <c>--config</c>, else <c>.uet/config.yaml</c> at the repository root (it may not exist).</summary>
    public string ConfigFile(ParseResult parse) => parse.GetValue(ConfigPath) ?? Path.Combine(Root(), ProjectInitializer.ConfigRelativePath);

    private static string Root() => Workspace.FindRoot(Directory.GetCurrentDirectory()) ?? Directory.GetCurrentDirectory();

    /// <summary>Opens the database at this build's schema; a missing or older one says to run <c>uet init</c>.</summary>
    public Task<SqliteStateStore> OpenAsync(ParseResult parse, CancellationToken cancellationToken) =>
        SqliteStateStore.OpenCurrentAsync(DatabasePath(parse), TimeProvider.System, cancellationToken);
}
