using Uet.Tests.Support;
using System.Text.RegularExpressions;
using Uet.Config;
using Xunit;

namespace Uet.Tests.Config;

// Error reporting: every error names file:line:col and the key path, and all are reported together.
public sealed partial class ConfigLoaderTests
{
    [Fact]
    public void Parse_UnknownTopLevelKey_ReportsPathLocationAndKnownKeys()
    {
        var error = SingleError("project:\n  name: x\nexecutoin:\n  max_workers: 2\n");

        Assert.StartsWith(".uet/config.yaml:3:1: executoin: unknown key (known keys: project, execution, isolation,", error);
        Assert.EndsWith("did you mean 'execution'?", error);
    }

    [Fact]
    public void LoadFile_UnknownNestedKey_ReportsPathLocationAndKnownKeys()
    {
        using var temp = new TempDirectory();
        var path = temp.Write(".uet/config.yaml", "execution:\n  retry_policy:\n    max_retries: 1\n  max_wokers: 4\n");

        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(path));

        var error = Assert.Single(ex.Errors);
        Assert.StartsWith($"{path}:4:3: execution.max_wokers: unknown key (known keys: max_workers, retry_policy, workstream_dir,", error);
        Assert.Contains("did you mean 'max_workers'?", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownKeyDeepInList_ReportsIndexedPath()
    {
        var error = SingleError("validation:\n  validators:\n    - name: a\n      run: [x]\n      when: always\n");

        Assert.StartsWith(".uet/config.yaml:5:7: validation.validators[0].when: unknown key (known keys: name, run, gate)", error);
    }

    [Theory]
    [InlineData("execution:\n  max_workers: four\n", "2:16: execution.max_workers: expected an integer, got 'four'")]
    [InlineData("execution:\n  max_workers: 2.5\n", "2:16: execution.max_workers: expected an integer, got '2.5'")]
    [InlineData("execution:\n  max_workers: \"4\"\n", "2:16: execution.max_workers: expected an integer, got the quoted string '4' (remove the quotes)")]
    [InlineData("execution:\n  max_workers: 99999999999\n", "2:16: execution.max_workers: '99999999999' is too large for an integer")]
    [InlineData("dag:\n  enabled: yes\n", "2:12: dag.enabled: expected true or false, got 'yes'")]
    [InlineData("dag:\n  enabled: [true]\n", "2:12: dag.enabled: expected true or false, got a list")]
    [InlineData("execution:\n  retry_policy:\n    backoff_seconds: soon\n", "3:22: execution.retry_policy.backoff_seconds: expected a number, got 'soon'")]
    [InlineData("execution:\n  retry_policy:\n    backoff_seconds: 1,5\n", "3:22: execution.retry_policy.backoff_seconds: expected a number, got '1,5'")]
    [InlineData("execution:\n  default_estimate_minutes: .inf\n", "2:29: execution.default_estimate_minutes: expected a number, got '.inf'")]
    [InlineData("adapters:\n  enabled: claude\n", "2:12: adapters.enabled: expected a list, got 'claude'")]
    [InlineData("adapters:\n  routing: {pattern: x, tool: y}\n", "2:12: adapters.routing: expected a list, got a mapping")]
    [InlineData("execution: 4\n", "1:12: execution: expected a mapping, got '4'")]
    [InlineData("project: [a, b]\n", "1:10: project: expected a mapping, got a list")]
    [InlineData("state_machines: on\n", "1:17: state_machines: expected a mapping, got 'on'")]
    [InlineData("execution:\n  tool_config:\n    aider: fast\n", "3:12: execution.tool_config.aider: expected a mapping of settings for the 'aider' tool, got 'fast'")]
    [InlineData("project:\n  type: {a: 1}\n", "2:9: project.type: expected a string, got a mapping")]
    [InlineData("project:\n  type:\n", "2:8: project.type: expected a string, got nothing (null)")]
    [InlineData("execution:\n  log_dir: \"\"\n", "2:12: execution.log_dir: must not be empty")]
    [InlineData("- a\n- b\n", "1:1: expected a mapping, got a list")]
    public void Parse_WrongType_ReportsPathLocationAndExpectation(string yaml, string expected)
    {
        Assert.Equal($"{Source}:{expected}", SingleError(yaml));
    }

    [Theory]
    [InlineData("execution:\n  max_workers: 0\n", "2:16: execution.max_workers: must be at least 1, got 0")]
    [InlineData("execution:\n  retry_policy:\n    max_retries: -1\n", "3:18: execution.retry_policy.max_retries: must be at least 0, got -1")]
    [InlineData("execution:\n  retry_policy:\n    backoff_seconds: -0.5\n", "3:22: execution.retry_policy.backoff_seconds: must be at least 0, got -0.5")]
    [InlineData("execution:\n  default_estimate_minutes: 0\n", "2:29: execution.default_estimate_minutes: must be greater than 0, got 0")]
    [InlineData("dag:\n  max_wave_parallelism: 0\n", "2:25: dag.max_wave_parallelism: must be at least 1, got 0")]
    public void Parse_OutOfRange_ReportsBound(string yaml, string expected)
    {
        Assert.Equal($"{Source}:{expected}", SingleError(yaml));
    }

    [Fact]
    public void Parse_InvalidIsolationStrategy_ListsChoices()
    {
        var error = SingleError("isolation:\n  strategy: docker\n");

        Assert.Equal($"{Source}:2:13: isolation.strategy: expected one of worktree, none, got 'docker'", error);
    }

    [Theory]
    [InlineData("dag:\n  topological_sort: dfs\n", "2:21: dag.topological_sort: expected one of kahn, got 'dfs'")]
    [InlineData("validation:\n  validators:\n    - {name: a, run: [x], gate: LINT}\n",
        "3:33: validation.validators[0].gate: expected one of GATE_LINT, GATE_UNIT, GATE_INTEGRATION, GATE_SECURITY, got 'LINT'")]
    public void Parse_ValueNotAmongChoices_ListsChoices(string yaml, string expected)
    {
        Assert.Equal($"{Source}:{expected}", SingleError(yaml));
    }

    [Fact]
    public void Parse_ValidatorRunAsString_SaysToUseAList()
    {
        var error = SingleError("validation:\n  validators:\n    - name: build\n      run: dotnet build -c Release\n");

        Assert.Equal(
            $"{Source}:4:12: validation.validators[0].run: expected a list of arguments, got the string 'dotnet build -c Release'; "
            + "write it as a list, e.g. [dotnet, build, -c, Release], so nothing depends on shell quoting",
            error);
    }

    [Theory]
    [InlineData("validation:\n  validators:\n    - run: [x]\n", "3:7: validation.validators[0]: missing required key 'name'")]
    [InlineData("validation:\n  validators:\n    - name: a\n", "3:7: validation.validators[0]: missing required key 'run'")]
    [InlineData("validation:\n  validators:\n    - {name: a, run: []}\n", "3:22: validation.validators[0].run: must not be empty: give the program and its arguments")]
    [InlineData("validation:\n  validators:\n    - build\n", "3:7: validation.validators[0]: expected a mapping, got 'build'")]
    [InlineData("adapters:\n  routing:\n    - tool: claude\n", "3:7: adapters.routing[0]: missing required key 'pattern'")]
    [InlineData("validation:\n  validators:\n    - {name: a, run: [x]}\n    - {name: a, run: [y]}\n",
        "4:14: validation.validators[1].name: another validator is already named 'a'; names must be unique")]
    public void Parse_InvalidListItem_ReportsIndexedPath(string yaml, string expected)
    {
        Assert.Equal($"{Source}:{expected}", SingleError(yaml));
    }

    [Fact]
    public void LoadFile_InvalidYamlSyntax_ReportsLineColumnAndParserMessage()
    {
        using var temp = new TempDirectory();
        var path = temp.Write(".uet/config.yaml", "project:\n  type: generic\n  name: 'shop\n");

        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(path));

        var error = Assert.Single(ex.Errors);
        Assert.Matches($"^{Regex.Escape(path)}:3:9: invalid YAML: While scanning a quoted scalar, found unexpected end of stream\\.$", error);
        Assert.IsAssignableFrom<YamlDotNet.Core.YamlException>(ex.InnerException);
    }

    [Theory]
    [InlineData("a:\n  - x\n  y: 2\n", "3:3: invalid YAML: While parsing a block collection, did not find expected '-' indicator.")]
    [InlineData("a: b: c\n", "1:5: invalid YAML: While scanning a plain scalar value, found invalid mapping.")]
    [InlineData("execution:\n\tmax_workers: 4\n", "2:1: invalid YAML: While scanning a mapping, found invalid tab as indentation.")]
    public void Parse_InvalidYamlSyntax_ReportsLineAndColumn(string yaml, string expected)
    {
        Assert.Equal($"{Source}:{expected}", SingleError(yaml));
    }

    [Fact]
    public void Parse_UnclosedFlowList_ReportsPositionNearIt()
    {
        var error = SingleError("execution:\n  max_workers: 4\n  log_dir: [a, b\nisolation:\n  strategy: none\n");

        Assert.Matches($"^{Regex.Escape(Source)}:3:\\d+: invalid YAML: .*unclosed '\\['", error);
    }

    [Fact]
    public void Parse_RepeatedKey_IsAnErrorAtTheRepeat()
    {
        var error = SingleError("execution:\n  tool_config:\n    aider:\n      1: a\n      '1': b\n");

        Assert.StartsWith($"{Source}:5:7: invalid YAML: Duplicate key", error);
    }

    [Fact]
    public void Parse_RepeatedKeyWithDifferentTag_IsAnErrorAtTheRepeat()
    {
        var error = SingleError("state_machines:\n  1: a\n  !!str 1: b\n");

        Assert.Equal($"{Source}:3:3: state_machines.1: duplicate key; each key may appear once", error);
    }

    [Fact]
    public void Parse_TwoDocuments_IsAnError()
    {
        var error = SingleError("project:\n  name: a\n---\nproject:\n  name: b\n");

        Assert.StartsWith($"{Source}:4:1: the file holds more than one YAML document", error);
    }

    [Fact]
    public void Parse_SeveralErrors_ReportsAllTogetherInFileOrder()
    {
        const string yaml = """
            project:
              nmae: shop
            execution:
              max_workers: 0
              retry_policy:
                backoff_seconds: soon
            isolation:
              strategy: docker
            validation:
              validators:
                - name: build
                  run: dotnet build
            """;

        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, Source));

        Assert.Collection(
            ex.Errors,
            e => Assert.StartsWith($"{Source}:2:3: project.nmae: unknown key", e),
            e => Assert.StartsWith($"{Source}:4:16: execution.max_workers: must be at least 1", e),
            e => Assert.StartsWith($"{Source}:6:22: execution.retry_policy.backoff_seconds: expected a number", e),
            e => Assert.StartsWith($"{Source}:8:13: isolation.strategy: expected one of", e),
            e => Assert.StartsWith($"{Source}:12:12: validation.validators[0].run: expected a list of arguments", e));
        Assert.StartsWith($"{Source}: 5 errors:", ex.Message);
        Assert.All(ex.Errors, e => Assert.Contains(e, ex.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void ConfigException_IsInvalidInput_WithExitCode1()
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("execution:\n  max_workers: four\n", Source));

        Assert.IsAssignableFrom<UetException>(ex);
        Assert.Equal(1, ex.ExitCode);
        Assert.Equal(ex.Errors[0], ex.Message);
    }

    [Fact]
    public void LoadFile_PathIsAFolder_ThrowsConfigException()
    {
        using var temp = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(temp.Path, "config.yaml"));

        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(Path.Combine(temp.Path, "config.yaml")));

        Assert.Contains("cannot read the config file", Assert.Single(ex.Errors), StringComparison.Ordinal);
    }

    private static string SingleError(string yaml)
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, Source));
        return Assert.Single(ex.Errors);
    }
}
