using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Uet.State.Sqlite;

/// <summary>The reads of <c>uet report</c>: a run's rows as they are, timings and all.</summary>
public sealed partial class SqliteStateStore
{
    public override async Task<RunRecord?> GetRunAsync(string runId, CancellationToken cancellationToken) =>
        (await Query(
            "SELECT run_id, state, created_at, started_at, completed_at, duration_ms FROM runs WHERE run_id = $run",
            c => c.Parameters.AddWithValue("$run", runId),
            r => new RunRecord(r.GetString(0), r.GetString(1), SqliteSchema.Parse(r.GetString(2)), SqliteSchema.ParseOrNull(r.GetValue(3)),
                SqliteSchema.ParseOrNull(r.GetValue(4)), NullableLong(r, 5))).ConfigureAwait(false)).FirstOrDefault();

    public override Task<IReadOnlyList<TaskDetail>> ListTaskDetailsAsync(string runId, CancellationToken cancellationToken) =>
        Query(
            "SELECT task_id, workstream_id, state, attempts, worker_id, started_at, completed_at, duration_ms FROM tasks WHERE run_id = $run ORDER BY workstream_id",
            c => c.Parameters.AddWithValue("$run", runId),
            r => new TaskDetail(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt32(3), r.IsDBNull(4) ? null : r.GetString(4),
                SqliteSchema.ParseOrNull(r.GetValue(5)), SqliteSchema.ParseOrNull(r.GetValue(6)), NullableLong(r, 7)));

    public override Task<IReadOnlyList<StepRecord>> ListStepsAsync(string runId, CancellationToken cancellationToken) =>
        Query(
            "SELECT step_id, task_id, attempt, state, started_at, completed_at, duration_ms, exit_code, cost_usd, input_tokens, output_tokens FROM steps WHERE run_id = $run ORDER BY task_id, attempt",
            c => c.Parameters.AddWithValue("$run", runId),
            r => new StepRecord(r.GetString(0), r.GetString(1), r.GetInt32(2), r.GetString(3), SqliteSchema.ParseOrNull(r.GetValue(4)),
                SqliteSchema.ParseOrNull(r.GetValue(5)), NullableLong(r, 6), r.IsDBNull(7) ? null : r.GetInt32(7),
                new ToolUsage(r.IsDBNull(8) ? null : r.GetDouble(8), NullableLong(r, 9), NullableLong(r, 10))));

    public override Task<IReadOnlyList<PatchRecord>> ListPatchesAsync(string runId, CancellationToken cancellationToken) =>
        Query(
            "SELECT patch_id, task_id, state, sha256, path, files, lines_added, lines_removed, created_at, updated_at FROM patches WHERE run_id = $run ORDER BY patch_id",
            c => c.Parameters.AddWithValue("$run", runId),
            r => new PatchRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4),
                r.IsDBNull(5) ? [] : JsonSerializer.Deserialize<string[]>(r.GetString(5)) ?? [],
                r.IsDBNull(6) ? null : r.GetInt32(6), r.IsDBNull(7) ? null : r.GetInt32(7),
                SqliteSchema.Parse(r.GetString(8)), SqliteSchema.Parse(r.GetString(9))));

    private static long? NullableLong(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);
}
