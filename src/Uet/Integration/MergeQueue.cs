using System.Globalization;
using Uet.Config;
using Uet.Execution;
using Uet.Git;
using Uet.State;
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
/// more patches on top), which is what bisection in any merge queue relies on.
/// </para>
/// <para>
/// The branch itself only ever points at validated commits: a crash mid-round leaves at most unreferenced commits,
/// and a resume finds on the branch exactly the patches that were verified.
/// </para>
/// </summary>
internal sealed class MergeQueue(RunContext run, IReadOnlyDictionary<string, int> order)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<Entry> _waiting = [];
    private readonly int _batchSize = Math.Max(1, run.Config.Integration.BatchSize);
    private int _validations;

    /// <summary>How many times the validators ran (each time, all those that apply), for reports and benchmarks.</summary>
    public int Validations => Volatile.Read(ref _validations);

    /// <summary>Queues a patch (already in state <c>queued</c>) and returns once it has been committed or rejected.</summary>
    public async Task<QueueOutcome> SubmitAsync(MergeRequest request) => (await SubmitAllAsync([request]).ConfigureAwait(false))[0];

    /// <summary>Queues several patches at once (they may share a batch) and returns what became of each, in order.</summary>
    public async Task<IReadOnlyList<QueueOutcome>> SubmitAllAsync(IReadOnlyList<MergeRequest> requests)
    {
        var entries = requests.Select(r => new Entry(r, order.GetValueOrDefault(r.Workstream.Id, int.MaxValue))).ToList();
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

    private sealed class Entry(MergeRequest request, int order)
    {
        public MergeRequest Request { get; } = request;

        public int Order { get; } = order;

        public TaskCompletionSource<QueueOutcome> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string? Commit { get; set; }
    }

    /// <summary>
    /// One round: a chain of commits from the front of <paramref name="batch"/>, one validation at its tip, bisection on
    /// failure. At least one entry is finished per round; those not finished go back to the queue.
    /// </summary>
    private async Task RoundAsync(List<Entry> batch)
    {
        var none = CancellationToken.None;
        var chain = new List<Entry>();
        try
        {
            var tip = await BranchTipAsync().ConfigureAwait(false);
            await GitRepository.ResetAsync(run.IntegrationWorktree, none, tip).ConfigureAwait(false);
            IReadOnlyList<(ValidatorConfig Validator, bool Blocking)>? validators = null;
            foreach (var entry in batch)
            {
                var selection = Validators(entry.Request.Workstream);
                if (chain.Count > 0 && !selection.SequenceEqual(validators!))
                {
                    break; // validated together only with the same validators, or the verdict would not be one-at-a-time's
                }

                var added = await AddToChainAsync(entry, chain.Count == 0 ? tip : chain[^1].Commit!).ConfigureAwait(false);
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
                await SettleAsync(chain, validators!, tip).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // Whatever broke (git, the disk), each waiting task must get an answer, and the queue must go on.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            var why = run.Redactor.Clean("integration failed: " + ex.Message);
            foreach (var entry in batch.Where(e => !e.Done.Task.IsCompleted))
            {
                if (entry.Commit is { } commit && await OnBranchAsync(commit).ConfigureAwait(false))
                {
                    // The branch moved but the store could not say so: never retry it as if it were not applied.
                    // The task's attempt fails with this error; a resume finds the commit by its trailer.
                    entry.Done.TrySetException(ex);
                    continue;
                }

                await TryChangeAsync(entry.Request.PatchId, P.ApplyFailed, why).ConfigureAwait(false);
                entry.Done.TrySetResult(new QueueOutcome(null, why, false));
            }
        }
        finally
        {
            var unfinished = batch.Where(e => !e.Done.Task.IsCompleted).ToList();
            lock (_waiting)
            {
                _waiting.AddRange(unfinished);
            }

            try
            {
                await GitRepository.ResetAsync(run.IntegrationWorktree, none, await BranchTipAsync().ConfigureAwait(false)).ConfigureAwait(false);
            }
            catch (GitProcessException)
            {
                // The next round resets again before it builds anything.
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
        var onBranch = parent == await BranchTipAsync().ConfigureAwait(false);

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
            if (!onBranch)
            {
                return null;
            }

            await run.ChangeAsync(EntityKind.Patch, request.PatchId, P.ApplyFailed, applyMessage).ConfigureAwait(false);
            entry.Done.TrySetResult(new QueueOutcome(null, "the patch does not apply to the integration branch: " + applyMessage, false));
            return false;
        }

        var ws = request.Workstream;
        var message = $"{ws.Id}: {ws.Tasks.FirstOrDefault() ?? "uet workstream"}\n\n"
            + $"Uet-Run: {run.RunId}\nUet-Workstream: {ws.Id}\nUet-Patch: {request.Sha256}\nUet-Attempt: {request.PatchId}\n";
        var (commit, commitMessage) = await GitRepository.CommitAsync(run.IntegrationWorktree, message, none).ConfigureAwait(false);
        if (commit is null)
        {
            await GitRepository.ResetAsync(run.IntegrationWorktree, none, parent).ConfigureAwait(false);
            await RejectAsync(entry, "the integration commit failed: " + commitMessage).ConfigureAwait(false);
            return false;
        }

        entry.Commit = commit;
        return true;
    }

    /// <summary>Validates the chain's tip; on failure bisects to the first failing commit. Moves the branch and records the outcome.</summary>
    private async Task SettleAsync(List<Entry> chain, IReadOnlyList<(ValidatorConfig Validator, bool Blocking)> validators, string tip)
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
            // Committed first (the branch moves only if nobody else moved it), recorded after, together: a patch is
            // never 'verified' without its commit on the branch.
            var newTip = passed[^1].Commit!;
            await GitCli.OutputAsync(run.Repository, ["update-ref", "-m", "uet: integrate", BranchRef, newTip, tip], none).ConfigureAwait(false);
            var reason = validators.Count == 0 ? "no validators configured" : passed.Count == 1 ? "validators passed" : $"validators passed on a batch of {passed.Count}";
            await run.TransactAsync(async (transaction, _) =>
            {
                foreach (var entry in passed)
                {
                    await run.ChangeInAsync(transaction, EntityKind.Patch, entry.Request.PatchId, P.Applied, "applied to the integration worktree").ConfigureAwait(false);
                    await run.ChangeInAsync(transaction, EntityKind.Patch, entry.Request.PatchId, P.Verified, reason).ConfigureAwait(false);
                    await run.ChangeInAsync(transaction, EntityKind.Patch, entry.Request.PatchId, P.Committed, $"commit {entry.Commit}").ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
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

    private async Task RejectAsync(Entry entry, string why)
    {
        await run.TransactAsync(async (transaction, _) =>
        {
            await run.ChangeInAsync(transaction, EntityKind.Patch, entry.Request.PatchId, P.Applied, "applied to the integration worktree").ConfigureAwait(false);
            await run.ChangeInAsync(transaction, EntityKind.Patch, entry.Request.PatchId, P.RolledBack, why).ConfigureAwait(false);
        }).ConfigureAwait(false);
        entry.Done.TrySetResult(new QueueOutcome(null, why, true));
    }

    /// <summary>Runs the validators on the chain's commit <paramref name="index"/>; null when they pass, else why it is rejected.</summary>
    private async Task<string?> ValidateAsync(List<Entry> chain, int index, IReadOnlyList<(ValidatorConfig Validator, bool Blocking)> validators)
    {
        var none = CancellationToken.None;
        var at = chain[index];
        if (await GitCli.OutputAsync(run.IntegrationWorktree, ["rev-parse", "HEAD"], none).ConfigureAwait(false) != at.Commit)
        {
            await GitRepository.ResetAsync(run.IntegrationWorktree, none, at.Commit!).ConfigureAwait(false);
        }

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
            // Under the span of the patch whose submitter holds the queue: with batching, one validation covers several.
            using var span = Telemetry.UetTelemetry.StartValidator(run.RunId, ws.Id, validator.Name);
            span?.SetTag("uet.batch", batch);
            var spec = new ProcessSpec(validator.Run, run.IntegrationWorktree, new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["UET_RUN_ID"] = run.RunId,
                ["UET_WORKSTREAM_ID"] = ws.Id,
                ["UET_WORKSTREAMS"] = batch,
                ["UET_VALIDATOR"] = validator.Name,
            }, run.Options.EffectiveTimeout, log, run.Options.LogCapBytes);
            var outcome = await ProcessRunner.RunAsync(spec, run.Redactor, run.Clock, none).ConfigureAwait(false);
            Telemetry.UetTelemetry.Fail(outcome.Succeeded ? null : span, outcome.Describe());
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

        return await GitCli.OutputAsync(run.IntegrationWorktree, ["rev-parse", "HEAD"], none).ConfigureAwait(false) == at.Commit
            ? null
            : "a validator moved the integration branch (it must not commit or check out)";
    }

    /// <summary>The validators that apply to a workstream: all of them, or those of its test gates (plus gateless ones).</summary>
    private IReadOnlyList<(ValidatorConfig Validator, bool Blocking)> Validators(Workstream workstream)
    {
        var all = run.Config.Validation.Validators;
        var chosen = workstream.TestGates.Count == 0 ? all : all.Where(v => v.Gate is null || workstream.TestGates.Any(g => g.Type == v.Gate));
        return chosen.Select(v => (v, v.Gate is not { } gate
            || workstream.TestGates.Where(g => g.Type == gate).DefaultIfEmpty(new TestGate(gate, true, true)).Any(g => g.Blocking))).ToArray();
    }

    private string BranchRef => "refs/heads/" + run.IntegrationBranch;

    private Task<string> BranchTipAsync() => GitCli.OutputAsync(run.Repository, ["rev-parse", "--verify", BranchRef], CancellationToken.None);

    private async Task<bool> OnBranchAsync(string commit)
    {
        try
        {
            return (await GitCli.RunAsync(run.Repository, ["merge-base", "--is-ancestor", commit, BranchRef], CancellationToken.None).ConfigureAwait(false)).ExitCode == 0;
        }
        catch (GitProcessException)
        {
            return true; // cannot tell: assume the worst (no retry)
        }
    }

    private async Task TryChangeAsync(string patchId, string to, string why)
    {
        try
        {
            await run.ChangeAsync(EntityKind.Patch, patchId, to, why).ConfigureAwait(false);
        }
        catch (StateException)
        {
            // Already past 'queued' (or the store is what broke): the task still gets its answer.
        }
    }
}
