using Xunit;

namespace Uet.Tests.Execution.AiClis;

/// <summary>
/// The real AI CLIs, installed from the npm registry into <c>tests/ai-clis/node_modules</c> (<c>npm ci --prefix
/// tests/ai-clis</c>, which .ci/run does). Missing is a failure, not a skip: a test that quietly skips proves nothing.
/// </summary>
internal static class InstalledClis
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Path(string name)
    {
        var path = System.IO.Path.Combine(RepositoryRoot, "tests", "ai-clis", "node_modules", ".bin", name);
        if (!File.Exists(path))
        {
            Assert.Fail($"{name} is not installed at {path}: run 'npm ci --prefix tests/ai-clis' in {RepositoryRoot} (needs Node.js 20 and npm).");
        }

        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "uet.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no uet.slnx above {AppContext.BaseDirectory}: the tests must run from the repository's build output");
    }
}
