using System.Text.Json;
using Uet.Tests.Support;
using Xunit;

namespace Uet.Tests.Cli;

/// <summary><c>uet doctor</c> as a process: tools found or not (fake programs stand in for the CLIs), and the workstreams that would fail.</summary>
public sealed class DoctorCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly string _codex;

    public DoctorCliTests()
    {
        CliRunner.Git(_dir.Path, "init", "-q");
        _codex = _dir.Write("bin/fake-codex", "#!/bin/sh\necho 'WARNING: a warning on stderr' >&2\necho 'codex-cli 9.9.9'\n");
        var broken = _dir.Write("bin/broken-gemini", "#!/bin/sh\necho 'no such module' >&2\nexit 3\n");
        CliRunner.Run(_dir.Path, "chmod", ["+x", _codex, broken]);

        _dir.Write(".uet/config.yaml", $$"""
            execution:
              tool_config:
                codex: { program: {{_codex}} }
                gemini: { program: {{broken}} }
                aider: { program: uet-test-no-such-aider }
            adapters:
              enabled: [aider, codex, claude, gemini, command]
              routing:
                - pattern: "*.py"
                  tool: aider
            """);
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Doctor_NoWorkstreams_ToolsOnly_Exit0()
    {
        Directory.CreateDirectory(Path.Combine(_dir.Path, "workstreams")); // as uet init leaves it: empty
        var result = CliRunner.Uet(_dir.Path, "doctor");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"\n  codex +enabled +installed +codex-cli 9\.9\.9 +/\S+/fake-codex\n", result.Stdout);
        Assert.Matches(@"\n  aider +enabled +not installed +- +'uet-test-no-such-aider' not found on PATH\n", result.Stdout);
        Assert.Matches(@"\n  gemini +enabled +installed +\? .*\n    \S+ --version failed \(exit code 3\): no such module\n", result.Stdout);
        Assert.Matches(@"\n  tests +disabled +built in +-\n", result.Stdout);
        Assert.Contains("Workstreams: none in workstreams (ws-*.{json,yaml,yml})", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Doctor_WorkstreamsWhoseToolIsMissingOrDisabled_NamedAndExit1()
    {
        _dir.Write("workstreams/ws-ok.json", """{ "id": "ws-ok", "tool": "codex" }""");
        _dir.Write("workstreams/ws-py.json", """{ "id": "ws-py", "files_scope": ["src/app.py"] }""");
        _dir.Write("workstreams/ws-tests.json", """{ "id": "ws-tests", "tool": "tests", "acceptance_tests": [{ "run": ["true"] }] }""");

        var result = CliRunner.Uet(_dir.Path, "doctor");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Matches(@"\n  ws-ok +codex +ok\n", result.Stdout);
        Assert.Contains("ws-py     aider  FAILS: ws-py uses aider, but 'uet-test-no-such-aider' is not installed (not found on PATH); install it or set execution.tool_config.aider.program", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("ws-tests  tests  FAILS: ws-tests: tool 'tests' is not in adapters.enabled of the config", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("2 of 3 workstreams would fail to find or run their tool.", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Doctor_WorkstreamOnAToolThatIsInstalledButDoesNotRun_Fails()
    {
        _dir.Write("workstreams/ws-g.json", """{ "id": "ws-g", "tool": "gemini" }""");

        var result = CliRunner.Uet(_dir.Path, "doctor");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("ws-g  gemini  FAILS: ws-g uses gemini, which is installed but does not run:", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Doctor_Json_ToolsAndWorkstreams()
    {
        _dir.Write("workstreams/ws-ok.json", """{ "id": "ws-ok", "tool": "codex" }""");

        var result = CliRunner.Uet(_dir.Path, "doctor", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var doc = JsonDocument.Parse(result.Stdout);
        var root = doc.RootElement;
        Assert.Equal("uet.doctor/1", root.GetProperty("format").GetString());
        Assert.True(root.GetProperty("ok").GetBoolean());
        var codex = root.GetProperty("tools").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "codex");
        Assert.Equal("codex-cli 9.9.9", codex.GetProperty("version").GetString());
        Assert.Equal(_codex, codex.GetProperty("path").GetString());
        Assert.True(codex.GetProperty("installed").GetBoolean());
        var ws = Assert.Single(root.GetProperty("workstreams").EnumerateArray());
        Assert.Equal("codex", ws.GetProperty("tool").GetString());
        Assert.True(ws.GetProperty("ok").GetBoolean());
    }
}
