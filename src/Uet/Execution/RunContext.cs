using Uet.Config;
using Uet.Execution.Adapters;
using Uet.State;

namespace Uet.Execution;

/// <summary>What every task of one run shares: where things go, the store, the clock, the integration worktree.</summary>
internal sealed class RunContext(
    string repository,
    UetConfig config,
    StateStore store,
    TimeProvider clock,
    Redactor redactor,
    RunOptions options,
    string runId,
    string integrationWorktree,
    string integrationBranch,
    AdapterRegistry adapters,
    Action<RunProgress> report)
{
    public string Repository { get; } = repository;

    public UetConfig Config { get; } = config;

    public StateStore Store { get; } = store;

    public TimeProvider Clock { get; } = clock;

    public Redactor Redactor { get; } = redactor;

    public RunOptions Options { get; } = options;

    public string RunId { get; } = runId;

    public string IntegrationWorktree { get; } = integrationWorktree;

    public string IntegrationBranch { get; } = integrationBranch;

    public AdapterRegistry Adapters { get; } = adapters;

    /// <summary>True when this run continues an interrupted one: tasks may already have attempts.</summary>
    public bool Resuming { get; init; }

    /// <summary>git's worktree bookkeeping is not made for concurrent adds and removes in one repository.</summary>
    public SemaphoreSlim WorktreeGate { get; } = new(1, 1);

    /// <summary>
    /// The dispatcher's part of a task's completion, run inside the completion's own transaction: marks the dependents
    /// it makes ready and returns them (one durable commit for both, not two).
    /// </summary>
    public Func<StoreTransaction, string, Task<IReadOnlyList<string>>>? Completing { get; set; }

    /// <summary>The order of the merge queue: each workstream's place by wave, then critical path, then id.</summary>
    public IReadOnlyDictionary<string, int> MergeOrder { get; init; } = new Dictionary<string, int>();

    /// <summary>The integration branch's commit when the run (or the resume) began.</summary>
    public string InitialTip { get; init; } = string.Empty;

    /// <summary>Where validated patches wait for the integration branch, and are applied, validated and committed.</summary>
    public Integration.MergeQueue Merges
    {
        get
        {
            // Made on first use (after the init properties are set), once: two queues would integrate at the same time.
            lock (_mergesGate)
            {
                return _merges ??= new Integration.MergeQueue(this, MergeOrder, InitialTip);
            }
        }
    }

    private readonly Lock _mergesGate = new();
    private Integration.MergeQueue? _merges;

    public string RunFolder { get; } = RunFolderOf(repository, config, runId);

    /// <summary>The workers' folders under <c>isolation: none</c> (each made on its worker's first attempt); the run's end removes them.</summary>
    public ScratchFolders Scratch { get; } = new(integrationWorktree, RunFolderOf(repository, config, runId));

    private static string RunFolderOf(string repository, UetConfig config, string runId) => Path.Combine(repository, config.Isolation.WorktreeDir, runId);

    public string LogFolder(string workstreamId) => Path.Combine(Repository, Config.Execution.LogDir, RunId, workstreamId);

    public string LedgerFile(string workstreamId, int attempt) =>
        Path.Combine(Repository, ".uet", "ledger", RunId, $"{workstreamId}-{attempt}.patch");

    public static string TaskId(string runId, string workstreamId) => $"{runId}:{workstreamId}";

    public static string AttemptId(string runId, string workstreamId, int attempt) =>
        $"{runId}:{workstreamId}:{attempt.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    public void Report(RunProgress progress) => report(progress);

    /// <summary>One state change in its own transaction.</summary>
    public Task ChangeAsync(EntityKind kind, string id, string to, string? reason) =>
        TransactAsync((transaction, _) => ChangeInAsync(transaction, kind, id, to, reason));

    /// <summary>
    /// Several changes that belong together (a task's start, its end) in one transaction: one commit (one fsync) for
    /// all of them, and never half of them. Each still writes its own event.
    /// </summary>
    public async Task TransactAsync(Func<StoreTransaction, CancellationToken, Task> work)
    {
        var none = CancellationToken.None;
        await using var transaction = await Store.BeginAsync(none).ConfigureAwait(false);
        await work(transaction, none).ConfigureAwait(false);
        await transaction.CommitAsync(none).ConfigureAwait(false);
    }

    /// <summary>
    /// <see cref="TransactAsync"/> for an attempt's start and a task's completion: returns once the changes are written,
    /// with their commit under way on another thread; the task returned ends once they are durable (or fails if they
    /// could not be made so). The tool (or the worker's next task) starts during the fsync instead of after it. Changes
    /// written later commit after these (one writer at a time), so the order on disk is the order of writing; a crash
    /// before the commit loses these and everything written after them, and a resume runs the task again, as for a
    /// crash during its tool. The caller must await the task before anything leaves the store (git) and before the run
    /// ends.
    /// </summary>
    public async Task<Task> TransactDurableLaterAsync(Func<StoreTransaction, CancellationToken, Task> work)
    {
        var none = CancellationToken.None;
        var transaction = await Store.BeginAsync(none).ConfigureAwait(false);
        try
        {
            await work(transaction, none).ConfigureAwait(false);
        }
        catch
        {
            await transaction.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return Task.Run(async () =>
        {
            await using (transaction.ConfigureAwait(false))
            {
                await transaction.CommitAsync(none).ConfigureAwait(false);
            }
        });
    }

    public Task ChangeInAsync(StoreTransaction transaction, EntityKind kind, string id, string to, string? reason) =>
        StateChanger.ChangeAsync(transaction, kind, id, to, reason is null ? null : Redactor.Clean(reason), CancellationToken.None);
}
