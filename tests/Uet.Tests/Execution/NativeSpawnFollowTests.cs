using System.Globalization;
using Uet.Execution;
using Uet.Tests.Support;
using Xunit;

namespace Uet.Tests.Execution;

/// <summary>
/// Which programs the spawning thread follows: those whose runs are short on average, by at most one thread per core.
/// Alone (not beside other tests): they count followers, which any other test's spawns would hold for a moment.
/// </summary>
[Collection(nameof(NativeSpawnFollowTests))]
public sealed class NativeSpawnFollowTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        NativeSpawn.DefaultFollowMilliseconds = NativeSpawn.FollowMilliseconds;
        _dir.Dispose();
    }

    /// <summary>A copy of a program at a path of this test's own, so that nothing else has taught uet about it.</summary>
    private string Copy(string name, string of)
    {
        var path = Path.Combine(_dir.Path, "bin", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Copy(new[] { "/usr/bin/" + of, "/bin/" + of }.First(File.Exists), path);
        return path;
    }

    // argv[0] is the program's own name: a multicall binary (uutils) picks its tool by it.
    private NativeChild Start(string program, string name, params string[] arguments) =>
        NativeSpawn.Start(program, [name, .. arguments], _dir.Path, new Dictionary<string, string>(), null, out var error)
            ?? throw new InvalidOperationException(error);

    [Fact]
    public async Task Start_ProgramsNeverRun_AreFollowed_OneAfterAnother_NoFollowersPlaceIsLost()
    {
        if (!NativeSpawn.IsAvailable)
        {
            return;
        }

        // More starts than there are places: a place not given back would leave the last ones unfollowed.
        for (var i = 0; i < (3 * Environment.ProcessorCount) + 1; i++)
        {
            using var child = Start(Copy("true-" + i.ToString(CultureInfo.InvariantCulture), "true"), "true");
            Assert.True(child.Followed, $"start {i}");
            await child.Exit.WaitAsync(TimeSpan.FromMinutes(1));
        }
    }

    [Fact]
    public async Task Start_ProgramWhoseRunsAreSlow_IsNotFollowed_UntilQuickRunsBringItsMeanDown()
    {
        if (!NativeSpawn.IsAvailable)
        {
            return;
        }

        var program = Copy("nap", "sleep");
        using (var first = Start(program, "sleep", "0.2"))
        {
            Assert.True(first.Followed); // never run
            await first.Exit.WaitAsync(TimeSpan.FromMinutes(1));
        }

        Assert.False(NativeSpawn.FollowsNext(NativeSpawn.FollowKey(program, _dir.Path))); // learned when it was reaped: 200 ms and more
        using (var second = Start(program, "sleep", "0"))
        {
            Assert.False(second.Followed);
            await second.Exit.WaitAsync(TimeSpan.FromMinutes(1));
        }

        // The mean moves a quarter of the way to each run: from 200 ms, 16 instant runs to reach 2.5 ms (15 leave 2.67).
        const string Key = "/nowhere/slow-then-quick";
        NativeSpawn.Learn(Key, 200);
        for (var i = 0; i < 15; i++)
        {
            NativeSpawn.Learn(Key, 0);
        }

        Assert.False(NativeSpawn.FollowsNext(Key));
        NativeSpawn.Learn(Key, 0);
        Assert.True(NativeSpawn.FollowsNext(Key));
    }

    [Fact]
    public async Task Start_MoreAtOnceThanCores_NoMoreThanCoresAreFollowedAtOnce()
    {
        if (!NativeSpawn.IsAvailable)
        {
            return;
        }

        // Each follower waits for its 3-second child (the window is 30 s here), so starts made together overlap by far;
        // what is checked is how many were being followed at any one moment (when each Start began and returned).
        NativeSpawn.DefaultFollowMilliseconds = 30_000;
        var count = Environment.ProcessorCount + 1;
        var programs = Enumerable.Range(0, count).Select(i => Copy("nap-" + i.ToString(CultureInfo.InvariantCulture), "sleep")).ToArray();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var together = new Barrier(count);
        var starts = programs.Select(program => Task.Factory.StartNew(
            () =>
            {
                together.SignalAndWait();
                var began = clock.Elapsed.TotalMilliseconds;
                using var child = Start(program, "sleep", "3");
                var returned = clock.Elapsed.TotalMilliseconds;
                var status = child.Exit.Wait(TimeSpan.FromMinutes(1)) ? child.Exit.Result : null;
                return (child.Followed, Began: began, Returned: returned, Status: status);
            },
            TaskCreationOptions.LongRunning)).ToArray();

        var results = await Task.WhenAll(starts).WaitAsync(TimeSpan.FromMinutes(2));

        var followed = results.Where(r => r.Followed).ToArray();
        var atOnce = followed.Max(r => followed.Count(o => o.Began <= r.Began && r.Began < o.Returned));
        var told = string.Join("; ", results.Select(r => $"followed {r.Followed}, {r.Began:0.#}-{r.Returned:0.#} ms, status {r.Status}"));
        Assert.True(atOnce <= Environment.ProcessorCount, told);
    }

    [Fact]
    public void FollowKey_AProgramInsideTheFolderItRunsIn_IsKnownByItsPathThere()
    {
        // The same check script in every task's worktree is one program; one outside is known by its whole path.
        Assert.Equal("./check.sh", NativeSpawn.FollowKey("/r/.worktrees/run/ws-1-1/./check.sh", "/r/.worktrees/run/ws-1-1"));
        Assert.Equal("./check.sh", NativeSpawn.FollowKey("/r/.worktrees/run/ws-2-1/./check.sh", "/r/.worktrees/run/ws-2-1/"));
        Assert.Equal("node_modules/.bin/x", NativeSpawn.FollowKey("/w/node_modules/.bin/x", "/w"));
        Assert.Equal("/usr/bin/true", NativeSpawn.FollowKey("/usr/bin/true", "/w"));
        Assert.Equal("/wx/tool", NativeSpawn.FollowKey("/wx/tool", "/w"));
        Assert.Equal("/w//x", NativeSpawn.FollowKey("/w//x", "/w")); // not "/x", another program's key
    }

    [Fact]
    public void Learn_ProgramsKnown_AreBounded_PastTheBoundAllAreForgotten()
    {
        var slow = Path.Combine(_dir.Path, "slow-program");
        NativeSpawn.Learn(slow, 1000);
        Assert.False(NativeSpawn.FollowsNext(slow));

        for (var i = 0; i < 4096; i++)
        {
            NativeSpawn.Learn(Path.Combine(_dir.Path, "worktree-" + i.ToString(CultureInfo.InvariantCulture), "tool"), 1000);
        }

        Assert.True(NativeSpawn.FollowsNext(slow)); // forgotten: memory stays bounded however many paths a run has
    }
}

[CollectionDefinition(nameof(NativeSpawnFollowTests), DisableParallelization = true)]
public sealed class NativeSpawnFollowCollection;
