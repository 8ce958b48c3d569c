using System.CommandLine;
using Uet.Config;
using Uet.Git;
using Uet.Workstreams;

namespace Uet.Cli.Commands;

/// <summary>The options that say which workstreams to load, shared by validate and plan.</summary>
internal sealed class CommonOptions
{
    public Argument<string[]> Paths { get; } = new("paths")
    {
        Description = "Workstream folders or files (default: execution.workstream_dir of the config, 'workstreams').",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public Option<string?> Pattern { get; } = new("--pattern", "-p")
    {
        Description = "File-name pattern inside folders (default: execution.workstream_pattern, 'ws-*.{json,yaml,yml}').",
    };

    public Option<string?> ConfigPath { get; } = new("--config")
    {
        Description = "Config file (default: .uet/config.yaml at the repository root).",
    };

    public Option<bool> SkipInvalid { get; } = new("--skip-invalid")
    {
        Description = "Load the valid workstreams and list what was skipped, instead of failing on the first bad file.",
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Write machine-readable JSON to stdout.",
    };

    public CommonOptions()
    {
        // Unmatched tokens land in this argument; one that looks like an option was a mistyped option, not a path.
        Paths.Validators.Add(result =>
        {
            foreach (var token in result.Tokens.Where(t => t.Value.StartsWith('-')))
            {
                result.AddError($"unknown option '{token.Value}'");
            }
        });
    }

    public void AddTo(Command command)
    {
        command.Arguments.Add(Paths);
        command.Options.Add(Pattern);
        command.Options.Add(ConfigPath);
        command.Options.Add(SkipInvalid);
    }

    public UetConfig LoadConfig(ParseResult parse)
    {
        var explicitPath = parse.GetValue(ConfigPath);
        if (explicitPath is not null && !File.Exists(explicitPath))
        {
            throw UsageException.PathNotFound(explicitPath);
        }

        return ConfigLoader.LoadFile(ConfigFile(parse));
    }

    /// <summary>The config file in use: <c>--config</c>, else <c>.uet/config.yaml</c> at the repository root (it may not exist).</summary>
    public string ConfigFile(ParseResult parse) => parse.GetValue(ConfigPath) ?? Path.Combine(RootDirectory(), ProjectInitializer.ConfigRelativePath);

    public WorkstreamSource Source(ParseResult parse, UetConfig config)
    {
        var paths = parse.GetValue(Paths) is { Length: > 0 } given
            ? given
            : [Path.GetRelativePath(Directory.GetCurrentDirectory(), Path.Combine(RootDirectory(), config.Execution.WorkstreamDir))];
        return new WorkstreamSource(paths, parse.GetValue(Pattern) ?? config.Execution.WorkstreamPattern);
    }

    private static string RootDirectory() => Workspace.FindRoot(Directory.GetCurrentDirectory()) ?? Directory.GetCurrentDirectory();
}
