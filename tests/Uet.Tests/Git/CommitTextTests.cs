using Uet.Git;
using Uet.Integration;
using Xunit;

namespace Uet.Tests.Git;

/// <summary>What uet hands git as text: a commit's subject, and the name of a command that could not start.</summary>
public sealed class CommitTextTests
{
    [Theory]
    [InlineData("Add hello.txt", "Add hello.txt")]
    [InlineData("\n  \r\nSecond line is the first with text\nthird", "Second line is the first with text")]
    [InlineData("", "uet workstream")]
    [InlineData(null, "uet workstream")]
    [InlineData(" \n\t\n", "uet workstream")]
    public void Subject_FirstLineWithText(string? task, string subject) => Assert.Equal(subject, MergeQueue.Subject(task));

    [Fact]
    public void Subject_LongLine_CutTo72_NeverInsideACharacter()
    {
        var plain = MergeQueue.Subject(new string('a', 200));
        Assert.Equal(new string('a', 71) + "…", plain);

        // 70 letters, then emoji (two UTF-16 units each): the cut falls between a pair, so it moves before it.
        var emoji = MergeQueue.Subject(new string('a', 70) + "😀😀😀");
        Assert.Equal(new string('a', 70) + "…", emoji);
        Assert.DoesNotContain(emoji, char.IsSurrogate);
    }

    [Fact]
    public void Subcommand_SkipsOptionsAndTheirValues()
    {
        Assert.Equal("log", GitCli.Subcommand(["-c", "core.hooksPath=/dev/null", "-C", "/repo", "--no-pager", "log", "--oneline"]));
        Assert.Equal("commit", GitCli.Subcommand(["commit", "-m", "x"]));
        Assert.Null(GitCli.Subcommand(["--version"]));
    }
}
