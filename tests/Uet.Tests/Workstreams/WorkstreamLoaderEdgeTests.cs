using System.Text;
using Uet.Tests.Support;
using Uet.Workstreams;
using Xunit;

namespace Uet.Tests.Workstreams;

/// <summary>Hostile or unusual files: each must end in a located error (or load), never a crash or a hang.</summary>
public sealed class WorkstreamLoaderEdgeTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private WorkstreamSet Load(bool skipInvalid = false) =>
        WorkstreamLoader.Load(new WorkstreamSource([_dir.Path]), skipInvalid);

    private string WriteBytes(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir.Path, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Load_InvalidUtf8InAString_LocatedErrorNotACrash()
    {
        var file = WriteBytes("ws-q.json", [.. "{\"id\":\"ws-q\",\"tasks\":[\"h"u8, 0xFF, 0xFE, .. "\"]}"u8]);
        _dir.Write("ws-ok.json", """{ "id": "ws-ok" }""");

        var set = Load(skipInvalid: true);

        var error = Assert.Single(set.Diagnostics, d => d.IsError);
        Assert.Equal(new SourceLocation(file, 1, 23), error.Location);
        Assert.Contains("not valid UTF-8", error.Message, StringComparison.Ordinal);
        Assert.Equal(["ws-ok"], set.Workstreams.Select(w => w.Id));
    }

    [Fact]
    public void Load_NonAsciiBeforeASyntaxError_ColumnCountsCharacters()
    {
        var file = _dir.Write("ws-u.json", "{\"id\": \"ws-a\", \"tasks\": [\"héllo\u00e9\u00e9\"] x}");

        var error = Assert.Single(Load().Diagnostics);

        Assert.Equal(new SourceLocation(file, 1, 37), error.Location);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n")]
    [InlineData("// only a comment\n/* and another */")]
    public void Load_EmptyOrCommentOnlyJson_SaysTheFileIsEmpty(string text)
    {
        _dir.Write("ws-e.json", text);

        var error = Assert.Single(Load().Diagnostics);

        Assert.Equal(DiagnosticCodes.Unparsable, error.Code);
        Assert.StartsWith("the file is empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_JsonWithBomAndCrlf_LinesStillRight()
    {
        var file = WriteBytes("ws-b.json", Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("{\r\n  \"id\": \"ws-b\",\r\n  \"depends_on\": [\"ws-zz\"]\r\n}")).ToArray());

        var error = Assert.Single(Load().Diagnostics);

        Assert.Equal(new SourceLocation(file, 3, 18), error.Location);
    }

    [Fact]
    public void Load_DeeplyNestedYaml_LocatedErrorNotAStackOverflow()
    {
        _dir.Write("ws-deep.yaml", "id: ws-deep\nmetadata: " + new string('[', 20_000) + new string(']', 20_000) + "\n");

        var error = Assert.Single(Load().Diagnostics);

        Assert.Contains("nested more than 64 levels", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, error.Location.Line);
    }

    [Fact]
    public void Load_YamlAliasBomb_RefusedQuickly()
    {
        var yaml = new StringBuilder("id: ws-bomb\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (var i = 1; i <= 8; i++)
        {
            yaml.Append($"a{i}: &a{i} [").Append(string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))).Append("]\n");
        }

        _dir.Write("ws-bomb.yaml", yaml.ToString());

        var error = Assert.Single(Load().Diagnostics);

        Assert.Contains("expands to more than 1,000,000 values", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_YamlMergeKey_AppliedWithWrittenKeysWinning()
    {
        _dir.Write("ws-m.yaml", """
            - &base {id: ws-c, tool: aider, estimate: 20m}
            - {<<: *base, id: ws-d}
            """);

        var set = Load();

        Assert.Equal(0, set.ErrorCount);
        var d = set.Workstreams.Single(w => w.Id == "ws-d");
        Assert.Equal("aider", d.Tool);
        Assert.Equal(TimeSpan.FromMinutes(20), d.Estimate);
    }

    [Fact]
    public void Load_UnparsableYaml_PinnedPosition()
    {
        var file = _dir.Write("ws-bad.yaml", "id: ws-bad\ntasks: [a, b\nfiles_scope: x\n");

        var error = Assert.Single(Load().Diagnostics);

        Assert.Equal(new SourceLocation(file, 2, 10), error.Location);
        Assert.Contains("unclosed '['", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SameFileNamedTwice_ReadOnce()
    {
        var file = _dir.Write("ws-a.json", """{ "id": "ws-a" }""");

        var set = WorkstreamLoader.Load(new WorkstreamSource([_dir.Path, file]), skipInvalid: false);

        Assert.Equal(0, set.ErrorCount);
        Assert.Equal(1, set.FileCount);
    }

    [Fact]
    public void Load_NoFileMatches_IsAUsageError()
    {
        _dir.Write("notes.txt", "x");

        var ex = Assert.Throws<UsageException>(() => WorkstreamLoader.Load(new WorkstreamSource([_dir.Path], "ws-*.json"), skipInvalid: false));

        Assert.Contains("match 'ws-*.json'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnknownDependencyFarFromEverything_NoSuggestionOfItself()
    {
        _dir.Write("ws-a.json", """{ "id": "ws-a", "depends_on": ["ws-zz"] }""");

        var error = Assert.Single(Load().Diagnostics);

        Assert.DoesNotContain("did you mean 'ws-a'", error.Message, StringComparison.Ordinal);
    }
}
