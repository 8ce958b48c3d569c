using Microsoft.Data.Sqlite;
using Uet.Config;
using Uet.Execution;
using Uet.Execution.Adapters;
using Uet.Git;
using Uet.Integration;
using Uet.State;
using Uet.State.Sqlite;
using Uet.Tests.Support;
using Uet.Workstreams;
using Xunit;
using P = Uet.State.StateMachines.Patch;

namespace Uet.Tests.Integration;

/// <summary>
/// The merge queue on a real repository and a real state database: patches queued together, applied as a chain,
/// validated once per batch, bisected on failure. Whatever the batch size, the branch ends with the same tree and the
/// same patches committed, rolled back or not applied as one at a time.
/// </summary>
public sealed class MergeQueueTests : IDisposable
{
    private const string RunId = "run-1";
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    /// <summary>What a queue did: each patch's final state, the branch's tree and commits, and the validator runs.</summary>
    private sealed record Result(IReadOnlyList<string> States, string Tree, IReadOnlyList<string> CommittedWorkstreams, int Validations, int ValidatorProcesses);

    /// <summary>
    /// Patches named by the files they add: <c>ok-*</c> pass the validator, <c>bad-*</c> make it fail (it fails while any
    /// bad-* file exists), and two patches adding the same <c>clash.txt</c> with other content conflict.
    /// </summary>
    private async Task<Result> IntegrateAsync(int batchSize, IReadOnlyList<(string File, string Content)> patches, bool concurrently = false)
    {
        var root = Path.Combine(_dir.Path, $"k{batchSize}");
        var repo = Path.Combine(root, "repo");
        TestRepository.Create(repo, init: false);
        var counter = Path.Combine(root, "validator-runs");
        var baseCommit = CliRunner.GitOutput(repo, "rev-parse", "HEAD");
        CliRunner.Git(repo, "branch", $"uet/{RunId}", baseCommit);
        var integration = Path.Combine(repo, ".worktrees", RunId, "integration");
        await GitRepository.AddWorktreeAsync(repo, integration, $"uet/{RunId}", detach: true, CancellationToken.None);

        // Each patch made as uet's capture makes it: a worktree at the base, the change, the staged diff.
        var scratch = Path.Combine(root, "scratch");
        await GitRepository.AddWorktreeAsync(repo, scratch, baseCommit, detach: true, CancellationToken.None);
        var ledger = Path.Combine(root, "ledger");
        Directory.CreateDirectory(ledger);
        var requests = new List<MergeRequest>();
        await using var store = SqliteStateStore.Open(Path.Combine(repo, ".state", "uet.db"), TimeProvider.System, create: true);
        await store.MigrateAsync(null, CancellationToken.None);
        await Transact(store, t => StateChanger.CreateAsync(t, new NewEntity(EntityKind.Run, RunId, null, new Dictionary<string, object?>()), CancellationToken.None));
        for (var i = 0; i < patches.Count; i++)
        {
            var id = $"ws-{i:00}";
            File.WriteAllText(Path.Combine(scratch, patches[i].File), patches[i].Content);
            var file = Path.Combine(ledger, id + ".patch");
            await GitRepository.CaptureAsync(scratch, baseCommit, file, CancellationToken.None);
            await GitRepository.ResetAsync(scratch, CancellationToken.None, baseCommit);
            var bytes = File.ReadAllBytes(file);
            var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
            var patchId = $"{RunId}:{id}:1";
            await Transact(store, async t =>
            {
                await StateChanger.CreateAsync(t, new NewEntity(EntityKind.Task, $"{RunId}:{id}", RunId, new Dictionary<string, object?> { ["workstream_id"] = id }), CancellationToken.None);
                await StateChanger.CreateAsync(t, new NewEntity(EntityKind.Patch, patchId, RunId, new Dictionary<string, object?>
                {
                    ["task_id"] = $"{RunId}:{id}",
                    ["sha256"] = sha,
                    ["path"] = file,
                    ["files"] = "[]",
                    ["lines_added"] = 1,
                    ["lines_removed"] = 0,
                }), CancellationToken.None);
                await StateChanger.ChangeAsync(t, EntityKind.Patch, patchId, P.Validated, null, CancellationToken.None);
                await StateChanger.ChangeAsync(t, EntityKind.Patch, patchId, P.Queued, null, CancellationToken.None);
            });
            var ws = new Workstream { Id = id, Location = new SourceLocation("test", 1, 1), Tasks = [$"add {patches[i].File}"] };
            requests.Add(new MergeRequest(ws, 1, patchId, file, sha));
        }

        var config = new UetConfig
        {
            Validation = new ValidationConfig
            {
                Validators = [new ValidatorConfig("check", ["sh", "-c", $"echo run >> '{counter}'; for f in bad-*; do [ -e \"$f\" ] && exit 1; done; exit 0"], null)],
            },
            Integration = new IntegrationConfig { BatchSize = batchSize },
        };
        var context = new RunContext(repo, config, store, TimeProvider.System, new Redactor([]), new RunOptions(1), RunId, integration, $"uet/{RunId}", new AdapterRegistry(config), _ => { })
        {
            InitialTip = baseCommit,
            MergeOrder = requests.Select((r, i) => (r.Workstream.Id, i)).ToDictionary(x => x.Id, x => x.i),
        };
        // All at once (they share batches), or each from a task of its own, as workers submit them, in any order.
        IReadOnlyList<QueueOutcome> outcomes = concurrently
            ? await Task.WhenAll(requests.Select(r => Task.Run(() => context.Merges.SubmitAsync(r))))
            : await context.Merges.SubmitAllAsync(requests);

        var states = requests.Select(r => TestRepository.Scalar(repo, $"SELECT state FROM patches WHERE patch_id = '{r.PatchId}'")).ToList();

        for (var i = 0; i < outcomes.Count; i++)
        {
            // The queue's answer to each task agrees with what it recorded.
            Assert.Equal(states[i] == P.Committed, outcomes[i].Commit is not null);
            Assert.Equal(states[i] == P.RolledBack, outcomes[i].RolledBack);
        }

        var branch = $"uet/{RunId}";
        var committed = CliRunner.GitOutput(repo, "log", "--reverse", "--format=%(trailers:key=Uet-Workstream,valueonly)", $"{baseCommit}..{branch}")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var processes = File.Exists(counter) ? File.ReadAllLines(counter).Length : 0;
        Assert.Equal(0, TestRepository.StatesDisagreeingWithEvents(repo));
        return new Result(states, CliRunner.GitOutput(repo, "rev-parse", $"{branch}^{{tree}}"), committed, context.Merges.Validations, processes);
    }

    private static async Task Transact(StateStore store, Func<StoreTransaction, Task> work)
    {
        await using var transaction = await store.BeginAsync(CancellationToken.None);
        await work(transaction);
        await transaction.CommitAsync(CancellationToken.None);
    }

    private static List<(string, string)> Patches(int count, params int[] bad) =>
        Enumerable.Range(0, count).Select(i => bad.Contains(i) ? ($"bad-{i:00}.txt", "bad\n") : ($"ok-{i:00}.txt", $"ok {i}\n")).ToList();

    [Fact]
    public async Task One_at_a_time_validates_each_patch_once_and_rolls_back_the_bad_ones()
    {
        var result = await IntegrateAsync(1, Patches(6, 2, 5));

        Assert.Equal([P.Committed, P.Committed, P.RolledBack, P.Committed, P.Committed, P.RolledBack], result.States);
        Assert.Equal(["ws-00", "ws-01", "ws-03", "ws-04"], result.CommittedWorkstreams);
        Assert.Equal(6, result.Validations);
        Assert.Equal(6, result.ValidatorProcesses);
    }

    [Fact]
    public async Task A_passing_batch_is_validated_once()
    {
        var result = await IntegrateAsync(4, Patches(8));

        Assert.All(result.States, s => Assert.Equal(P.Committed, s));
        Assert.Equal(8, result.CommittedWorkstreams.Count);
        Assert.Equal(2, result.Validations);
    }

    [Fact]
    public async Task A_failing_batch_is_bisected_to_its_culprit()
    {
        // A batch of 8 with patch 5 bad: the tip fails, then 3 passes, 5 fails, 4 passes -> 5 is the culprit; 0-4 are
        // committed and 6-7 form the next batch, validated once: 5 validations for 7 commits (one at a time: 8).
        var result = await IntegrateAsync(8, Patches(8, 5));

        Assert.Equal(P.RolledBack, result.States[5]);
        Assert.Equal(7, result.CommittedWorkstreams.Count);
        Assert.DoesNotContain("ws-05", result.CommittedWorkstreams);
        Assert.Equal(5, result.Validations);
        Assert.Equal(5, result.ValidatorProcesses);
    }

    [Fact]
    public async Task Every_batch_size_ends_exactly_as_one_at_a_time()
    {
        // Bad patches first, last, and side by side, and a pair that conflicts (the second does not apply once the
        // first is in): the same states, the same commits in the same order, the same tree.
        var patches = Patches(20, 0, 7, 8, 19);
        patches[11] = ("clash.txt", "one\n");
        patches[12] = ("clash.txt", "two\n");
        var reference = await IntegrateAsync(1, patches);
        Assert.Equal(P.ApplyFailed, reference.States[12]);
        Assert.Equal(19, reference.Validations); // every patch that applied, once

        foreach (var k in new[] { 2, 3, 4, 8, 20 })
        {
            var batched = await IntegrateAsync(k, patches);
            Assert.Equal(reference.States, batched.States);
            Assert.Equal(reference.CommittedWorkstreams, batched.CommittedWorkstreams);
            Assert.Equal(reference.Tree, batched.Tree);
            Assert.True(batched.Validations < reference.Validations, $"batch size {k}: {batched.Validations} validations, one at a time {reference.Validations}");
        }
    }

    [Fact]
    public async Task Concurrent_submitters_end_as_one_at_a_time()
    {
        // Twelve tasks submitting at once: whoever holds the queue integrates the others' patches too, in order.
        var patches = Patches(12, 3, 9);
        var reference = await IntegrateAsync(1, patches);
        var batched = await IntegrateAsync(4, patches, concurrently: true);

        Assert.Equal(reference.States, batched.States);
        Assert.Equal(reference.CommittedWorkstreams.Order(StringComparer.Ordinal), batched.CommittedWorkstreams.Order(StringComparer.Ordinal));
        Assert.Equal(reference.Tree, batched.Tree);
    }
}
