using System.Diagnostics;
using System.Globalization;
using Uet.Config;
using Uet.Execution;
using Uet.Git;
using Uet.State;
using Uet.Telemetry;
using Uet.Workstreams;
using P = Uet.State.StateMachines.Patch;

namespace Uet.Integration;

/// <summary>A validated patch waiting for the integration branch.</summary>
internal sealed record MergeRequest(Workstream Workstream, int Attempt, string PatchId, string PatchFile, string Sha256);

/// <summary>
/// What became of a patch: committed (<see cref="Commit"/>), rejected by a validator (<see cref="RolledBack"/>, the task
/// fails), or not applied (<see cref="Error"/> without <see cref="RolledBack"/>: the attempt may be retried on the new head).
/// </summary>
internal sealed record QueueOutcome(string? Commit, string? Error, bool RolledBack);

/// <summary>
/// A result git already holds (a patch on the integration branch, a task's completion) could not be recorded: the run
/// must stop, since a retry would do the work again; <c>uet resume</c> reconciles the store with git.
/// </summary>
internal sealed class QueueFailure(string runId, string message, Exception inner)
    : UetException($"{message}; the run is left unfinished: 'uet resume {runId}' reconciles it with git and goes on", inner)
{
    public override int ExitCode => 1;
}

/// <summary>
/// The merge queue. Patches wait here and are integrated in a deterministic order (wave, then critical path, then id)
/// by whichever submitter holds the queue, so there is never more than one integration at a time and no background task
/// to lose an error in.
/// <para>
/// One round takes up to <c>integration.batch_size</c> waiting patches and builds a chain of commits on a detached
/// HEAD in the integration worktree, one commit per patch with its trailers; the validators run once at the chain's
/// tip. If they pass, the branch moves to the tip (compare-and-swap) and every patch of the chain is verified and
/// committed. If they fail, the first failing commit is found by bisection (the validators run on the chain's middle,
/// then the half that holds the failure, ...): that patch is rolled back, the patches before it are committed, and
/// the ones after it go back to the queue to be applied again on the new head. With a batch size of 1 this is exactly
/// one validation per patch; with a larger one the outcome is the same as one at a time, as long as a validator's
/// verdict on a commit depends only on which patches it holds (a failure caused by one patch stays a failure with
/// more patches on top), which is what bisection in any merge queue relies on. Files git ignores (build outputs)
/// are kept between validations, as they are one at a time, for incremental builds.
/// </para>
/// <para>
/// The branch only ever points at validated commits, and the queue alone moves it: its tip is kept here, attempts
/// start from it, and a branch moved by anything else (a tool checking it out in its worktree) is put back. A crash
/// mid-round leaves at most unreferenced commits, and a resume finds on the branch exactly the verified patches.
/// </para>
/// </summary>
internal sealed class MergeQueue(RunContext run, IReadOnlyDictionary<string, int> order, string tip)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<Entry> _waiting = [];
    private readonly int _batchSize = Math.Max(1, run.Config.Integration.BatchSize);
    private int _validations;
    private string _tip = tip;

    /// <summary>How many times the validators ran (each time, all those that apply), for reports and benchmarks.</summary>
    public int Validations => Volatile.Read(ref _validations);

    /// <summary>The integration branch's validated tip: where every attempt starts.</summary>
    public string Tip => Volatile.Read(ref _tip);

    private string BranchRef => "refs/heads/" + run.IntegrationBranch;

    /// <summary>Queues a patch (already in state <c>queued</c>) and returns once it has been committed or rejected.</summary>
    public async Task<QueueOutcome> SubmitAsync(MergeRequest request) => (await SubmitAllAsync([request]).ConfigureAwait(false))[0];

    /// <summary>Queues several patches at once (they may share a batch) and returns what became of each, in order.</summary>
    public async Task<IReadOnlyList<QueueOutcome>> SubmitAllAsync(IReadOnlyList<MergeRequest> requests)
    {
        var entries = requests.Select(r => new Entry(r, order.GetValueOrDefault(r.Workstream.Id, int.MaxValue), Activity.Current)).ToList();
        lock (_waiting)
        {
            _waiting.AddRange(entries);
        }

        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            // Whoever holds the queue integrates what waits, in order, its own patches and others', until its own are done.
            while (entries.Any(e => !e.Done.Task.IsCompleted))
            {
                List<Entry> batch;
                lock (_waiting)
                {
                    batch = [.. _waiting.OrderBy(e => e.Order).ThenBy(e => e.Request.Workstream.Id, StringComparer.Ordinal).Take(_batchSize)];
                    _waiting.RemoveAll(batch.Contains);
                }

                await RoundAsync(batch).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }

        var outcomes = new List<QueueOutcome>(entries.Count);
        foreach (var entry in entries)
        {
            outcomes.Add(await entry.Done.Task.ConfigureAwait(false));
        }

        return outcomes;
    }

    /// <summary>
    /// Puts the branch back on the queue's tip if anything else moved it (a tool that checked it out in its worktree and
    /// committed, a user): only validated commits are ever on it. Called before each round and at the end of the run.
    /// </summary>
    public async Task GuardBranchAsync()
    {
        var none = CancellationToken.None;
        var current = await GitCli.RunAsync(run.Repository, ["rev-parse", "--verify", "--quiet", BranchRef], none).ConfigureAwait(false);
        var at = current.StandardOutput.Trim();
        if (current.ExitCode == 0 && at == Tip)
        {
            return;
        }

        await GitCli.OutputAsync(run.Repository, ["update-ref", "-m", "uet: put back by the merge queue", BranchRef, Tip], none).ConfigureAwait(false);
        run.Report(new RunProgress("warning", run.IntegrationBranch,
            $"{run.IntegrationBranch} was {(current.ExitCode == 0 ? "moved to " + at[..Math.Min(12, at.Length)] : "deleted")} outside the merge queue; put back at {Tip[..12]}", 0, 0));
    }

    private sealed class Entry(MergeRequest request, int order, Activity? span)
    {
        public MergeRequest Request { get; } = request;

        public int Order { get; } = order;

        /// <summary>The submitter's span: what this patch's validation and state changes belong to.</summary>
        public Activity? Span { get; } = span;

        public TaskCompletionSource<QueueOutcome> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string? Commit { get; set; }
    }

    /// <summary>
    /// One round: a chain of commits from the front of <paramref name="batch"/>, one validation at its tip, bisection on
    /// failure. At least one entry is finished per round; those not finished go back to the queue.
    /// </summary>
    private async Task RoundAsync(List<Entry> batch)
    {
        var chain = new List<Entry>();
        try
        {
            await GuardBranchAsync().ConfigureAwait(false);
            await DetachAtAsync(Tip).ConfigureAwait(false);
            IReadOnlyList<(ValidatorConfig Validator, bool Blocking)>? validators = null;
            foreach (var entry in batch)
            {
                var selection = Validators(entry.Request.Workstream);
                if (chain.Count > 0 && !selection.SequenceEqual(validators!))
                {
                    break; // validated together only with the same validators, or the verdict would not be one-at-a-time's
                }

                bool? added;
                try
                {
                    added = await AddToChainAsync(entry, chain.Count == 0 ? Tip : chain[^1].Commit!).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or GitProcessException)
                {
                    // This patch alone (its ledger file unreadable, git refusing it): as it would be one at a time.
                    await FailAsync(entry, run.Redactor.Clean("integration failed: " + ex.Message)).ConfigureAwait(false);
                    await DetachAtAsync(chain.Count == 0 ? Tip : chain[^1].Commit!).ConfigureAwait(false);
                    continue;
                }

                if (added is null)
                {
                    break; // it may apply once the chain so far is settled: next round
                }

                if (added.Value)
                {
                    chain.Add(entry);
                    validators = selection;
                }
            }

            if (chain.Count > 0)
            {
                await SettleAsync(chain, validators!).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // Whatever broke (git, the disk), each waiting task must get an answer, and the queue must go on.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            // The chain's patches (or, when nothing was chained, the whole batch, so that the round still ends something)
            // fail; patches not yet tried go back to the queue.
            var why = run.Redactor.Clean("integration failed: " + ex.Message);
            foreach (var entry in (chain.Count > 0 ? chain : batch).Where(e => !e.Done.Task.IsCompleted))
            {
                if (entry.Commit is { } commit && await OnBranchAsync(commit).ConfigureAwait(false))
                {
                    entry.Done.TrySetException(new QueueFailure(run.RunId, $"{entry.Request.Workstream.Id}: committed on {run.IntegrationBranch} but not recorded: {why}", ex));
                    continue;
                }

                await FailAsync(entry, why).ConfigureAwait(false);
            }
        }
        finally
        {
            var unfinished = batch.Where(e => !e.Done.Task.IsCompleted).ToList();
            lock (_waiting)
            {
                _waiting.AddRange(unfinished);
            }
        }
    }

    /// <summary>
    /// Applies one patch on top of <paramref name="parent"/> and commits it. True: it is on the chain; false: it is
    /// finished (not applicable on the branch itself, or changed since it was checked); null: it does not apply on
    /// top of the chain, so it waits for the next round.
    /// </summary>
    private async Task<bool?> AddToChainAsync(Entry entry, string parent)
    {
        var none = CancellationToken.None;
        var request = entry.Request;

        // Apply exactly the bytes that were checked: the ledger file is re-read and its hash compared, so nothing that
        // ran after the check (the acceptance gate, a tool's leftover process) can slip a different patch in.
        var bytes = await File.ReadAllBytesAsync(request.PatchFile, none).ConfigureAwait(false);
        if (!string.Equals(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), request.Sha256, StringComparison.Ordinal))
        {
            await run.ChangeAsync(EntityKind.Patch, request.PatchId, P.ApplyFailed, "the patch file changed after it was checked").ConfigureAwait(false);
            entry.Done.TrySetResult(new QueueOutcome(null, "the patch file in the ledger changed after it was checked; refusing to apply it", false));
            return false;
        }

        var (applied, applyMessage) = await GitRepository.ApplyAsync(run.IntegrationWorktree, bytes, none).ConfigureAwait(false);
        if (!applied)
        {
            if (parent != Tip)
            {
                return null;
            }

            await run.ChangeAsync(EntityKind.Patch, request.PatchId, P.ApplyFailed, applyMessage).ConfigureAwait(false);
            entry.Done.TrySetResult(new QueueOutcome(null, "the patch does not apply to the integration branch: " + applyMessage, false));
            return false;
        }

        var ws = request.Workstream;
        var message = $"{ws.Id}: {Subject(ws.Tasks.FirstOrDefault())}\n\n"
            + $"Uet-Run: {run.RunId}\nUet-Workstream: {ws.Id}\nUet-Patch: {request.Sha256}\nUet-Attempt: {request.PatchId}\n";
        var (commit, commitMessage) = await GitRepository.CommitAsync(run.IntegrationWorktree, message, none).ConfigureAwait(false);
        if (commit is null)
        {
            await DetachAtAsync(parent).ConfigureAwait(false);
            await RejectAsync(entry, "the integration commit failed: " + commitMessage).ConfigureAwait(false);
            return false;
        }

        if ((await GitCli.OutputAsync(run.IntegrationWorktree, ["rev-parse", $"{commit}^"], none).ConfigureAwait(false)) != parent)
        {
            throw new InvalidOperationException($"the integration commit of {ws.Id} is not on top of {parent[..12]}; the integration worktree was changed under the merge queue");
        }

        entry.Commit = commit;
        return true;
    }

    /// <summary>Validates the chain's tip; on failure bisects to the first failing commit. Moves the branch and records the outcome.</summary>
    private async Task SettleAsync(List<Entry> chain, IReadOnlyList<(ValidatorConfig Validator, bool Blocking)> validators)
    {
        var none = CancellationToken.None;
        var culprit = -1;
        string? why = null;
        if (await ValidateAsync(chain, chain.Count - 1, validators).ConfigureAwait(false) is { } failure)
        {
            // Invariant: the commit at 'good' passes (-1 is the branch itself), the one at 'bad' fails.
            (var good, var bad, why) = (-1, chain.Count - 1, failure);
            while (bad - good > 1)
            {
                var middle = (good + bad) / 2;
                if (await ValidateAsync(chain, middle, validators).ConfigureAwait(false) is { } failed)
                {
                    (bad, why) = (middle, failed);
                }
                else
                {
                    good = middle;
                }
            }

            culprit = bad;
            if (chain.Count > 1)
            {
                why += $"\n(found by bisecting a batch of {chain.Count})";
            }
        }

        var passed = culprit < 0 ? chain : chain[..culprit];
        if (passed.Count > 0)
        {
            // Committed first (the branch moves only from the tip the queue knows, and only forward), recorded after,
            // together: a patch is never 'verified' without its commit on the branch.
            var newTip = passed[^1].Commit!;
            var oldTip = Tip;
            if (!await GitRepository.IsAncestorAsync(run.Repository, oldTip, newTip, none).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"refusing to move {run.IntegrationBranch}: {newTip[..12]} does not descend from its tip {oldTip[..12]}");
            }

            await GuardBranchAsync().ConfigureAwait(false);
            await GitCli.OutputAsync(run.Repository, ["update-ref", "-m", "uet: integrate", BranchRef, newTip, oldTip], none).ConfigureAwait(false);
            Volatile.Write(ref _tip, newTip);
            var reason = validators.Count == 0 ? "no validators configured" : passed.Count == 1 ? "validators passed" : $"validators passed on a batch of {passed.Count}";
            await RecordAsync(passed, reason).ConfigureAwait(false);
            FaultInjection.Hit(FaultInjection.AfterPatchCommitted);
            foreach (var entry in passed)
            {
                entry.Done.TrySetResult(new QueueOutcome(entry.Commit, null, false));
            }
        }

        if (culprit >= 0)
        {
            await RejectAsync(chain[culprit], why!).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Records committed patches. The branch has moved already, so this must not give up on a busy database: it tries
    /// again, and if the store still refuses, the run has to stop (see <see cref="QueueFailure"/>), never retry a task.
    /// </summary>
    private async Task RecordAsync(List<Entry> passed, string reason)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await run.TransactAsync(async (transaction, _) =>
                {
                    foreach (var entry in passed)
                    {
                        using var adopted = Adopt(entry);
                        await run.ChangeInAsync(transaction, EntityKind.Patch, entry.Request.PatchId, P.Applied, "applied to the integration worktree").ConfigureAwait(false);
                        await run.ChangeInAsync(transaction, EntityKind.Patch, entry.Request.PatchId, P.Verified, reason).ConfigureAwait(false);
                        await run.ChangeInAsync(transaction, EntityKind.Patch, entry.Request.PatchId, P.Committed, $"commit {entry.Commit}").ConfigureAwait(false);
                    }
                }).ConfigureAwait(false);
                return;
            }
            catch (StateException ex) when (attempt < 3)
            {
                run.Report(new RunProgress("warning", passed[0].Request.Workstream.Id, $"recording the integration failed ({ex.Message}); trying again", 0, 0));
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), run.Clock, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private async Task RejectAsync(Entry entry, string why)
    {
        await run.TransactAsync(async (transaction, _) =>
        {
            using var adopted = Adopt(entry);
            await run.ChangeInAsync(transaction, EntityKind.Patch, entry.Request.PatchId, P.Applied, "applied to the integration worktree").ConfigureAwait(false);
            await run.ChangeInAsync(transaction, EntityKind.Patch, entry.Request.PatchId, P.RolledBack, why).ConfigureAwait(false);
        }).ConfigureAwait(false);
        entry.Done.TrySetResult(new QueueOutcome(null, why, true));
    }

    /// <summary>A patch that could not be integrated at all: apply_failed (its attempt may be retried on the new head).</summary>
    private async Task FailAsync(Entry entry, string why)
    {
        try
        {
            await run.ChangeAsync(EntityKind.Patch, entry.Request.PatchId, P.ApplyFailed, why).ConfigureAwait(false);
        }
        catch (StateException)
        {
            // The store is what broke: the task still gets its answer (and its own next write will fail the same way).
        }

        entry.Done.TrySetResult(new QueueOutcome(null, why, false));
    }

    /// <summary>Runs the validators on the chain's commit <paramref name="index"/>; null when they pass, else why it is rejected.</summary>
    private async Task<string?> ValidateAsync(List<Entry> chain, int index, IReadOnlyList<(ValidatorConfig Validator, bool Blocking)> validators)
    {
        var none = CancellationToken.None;
        var at = chain[index];
        await DetachAtAsync(at.Commit!).ConfigureAwait(false);
        if (validators.Count == 0)
        {
            return null;
        }

        Interlocked.Increment(ref _validations);
        var ws = at.Request.Workstream;
        var log = Path.Combine(run.LogFolder(ws.Id), $"{at.Request.Attempt.ToString(CultureInfo.InvariantCulture)}.validate.log");
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        var batch = string.Join(',', chain.Take(index + 1).Select(e => e.Request.Workstream.Id));
        foreach (var (validator, blocking) in validators)
        {
            // A child of the patch's own span, whoever's flow runs it; with batching, one validation covers several.
            using var span = UetTelemetry.StartValidator(run.RunId, ws.Id, validator.Name, at.Span?.Context ?? default);
            span?.SetTag("uet.batch", batch);
            var spec = new ProcessSpec(validator.Run, run.IntegrationWorktree, new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["UET_RUN_ID"] = run.RunId,
                ["UET_WORKSTREAM_ID"] = ws.Id,
                ["UET_WORKSTREAMS"] = batch,
                ["UET_VALIDATOR"] = validator.Name,
            }, run.Options.EffectiveTimeout, log, run.Options.LogCapBytes);
            var outcome = await ProcessRunner.RunAsync(spec, run.Redactor, run.Clock, none).ConfigureAwait(false);
            UetTelemetry.Fail(outcome.Succeeded ? null : span, outcome.Describe());
            if (outcome.Succeeded)
            {
                continue;
            }

            var why = run.Redactor.Clean($"validator {validator.Name} failed: {outcome.Describe()}" + (outcome.Tail.Length > 0 ? "\n" + outcome.Tail : string.Empty));
            if (blocking)
            {
                return why;
            }

            run.Report(new RunProgress("warning", ws.Id, "non-blocking " + why, 0, 0));
        }

        // A validator must leave HEAD alone: not commit, not check out (an attached HEAD would let the next commit move a branch).
        var attached = (await GitCli.RunAsync(run.IntegrationWorktree, ["symbolic-ref", "--quiet", "HEAD"], none).ConfigureAwait(false)).ExitCode == 0;
        return !attached && await GitCli.OutputAsync(run.IntegrationWorktree, ["rev-parse", "HEAD"], none).ConfigureAwait(false) == at.Commit
            ? null
            : "a validator moved the integration worktree's HEAD (it must not commit or check out)";
    }

    /// <summary>
    /// The integration worktree at <paramref name="commit"/>, detached, with its files and index and nothing untracked
    /// left but ignored files. Fails loudly: a chain must never be built on a worktree that is not where it should be.
    /// </summary>
    private async Task DetachAtAsync(string commit)
    {
        var none = CancellationToken.None;
        await GitCli.OutputAsync(run.IntegrationWorktree, ["-c", "core.hooksPath=/dev/null", "checkout", "--quiet", "--force", "--detach", commit], none).ConfigureAwait(false);
        await GitCli.OutputAsync(run.IntegrationWorktree, ["clean", "-fdq"], none).ConfigureAwait(false);
    }

    /// <summary>The validators that apply to a workstream: all of them, or those of its test gates (plus gateless ones).</summary>
    private IReadOnlyList<(ValidatorConfig Validator, bool Blocking)> Validators(Workstream workstream)
    {
        var all = run.Config.Validation.Validators;
        var chosen = workstream.TestGates.Count == 0 ? all : all.Where(v => v.Gate is null || workstream.TestGates.Any(g => g.Type == v.Gate));
        return chosen.Select(v => (v, v.Gate is not { } gate
            || workstream.TestGates.Where(g => g.Type == gate).DefaultIfEmpty(new TestGate(gate, true, true)).Any(g => g.Blocking))).ToArray();
    }

    private async Task<bool> OnBranchAsync(string commit)
    {
        try
        {
            return await GitRepository.IsAncestorAsync(run.Repository, commit, BranchRef, CancellationToken.None).ConfigureAwait(false);
        }
        catch (GitProcessException)
        {
            return true; // cannot tell: assume the worst (no retry)
        }
    }

    /// <summary>While recording a patch's states, its submitter's span is the current one, so the events land in its trace.</summary>
    private static Restore Adopt(Entry entry)
    {
        var saved = Activity.Current;
        if (entry.Span is not null)
        {
            Activity.Current = entry.Span;
        }

        return new Restore(saved);
    }

    private readonly struct Restore(Activity? saved) : IDisposable
    {
        public void Dispose() => Activity.Current = saved;
    }

    /// <summary>A commit's subject from a task: its first line with text, at most 72 characters (a task can be pages long).</summary>
    internal static string Subject(string? task)
    {
        var line = (task ?? string.Empty).Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "uet workstream";
        if (line.Length <= 72)
        {
            return line;
        }

        var cut = char.IsHighSurrogate(line[70]) ? 70 : 71; // never half of a character
        return line[..cut].TrimEnd() + "…";
    }
}
