using System.Globalization;

namespace Uet.State.Sqlite;

/// <summary>Table and column names per entity, the SQL of each transition, and the timestamp format.</summary>
internal static class SqliteSchema
{
    public static (string Table, string Key) TableOf(EntityKind kind) => kind switch
    {
        EntityKind.Run => ("runs", "run_id"),
        EntityKind.Task => ("tasks", "task_id"),
        EntityKind.Step => ("steps", "step_id"),
        EntityKind.Worker => ("workers", "worker_id"),
        _ => ("patches", "patch_id"),
    };

    /// <summary>
    /// The UPDATE for one transition: the state, guarded by the expected old state, plus the timestamps the target
    /// state implies (first start, completion with duration, termination, last update).
    /// </summary>
    public static string TransitionSql(EntityKind kind, string to)
    {
        var (table, key) = TableOf(kind);
        var sets = new List<string> { "state = $to" };
        switch (kind)
        {
            case EntityKind.Run or EntityKind.Task or EntityKind.Step when to == "running":
                sets.Add("started_at = COALESCE(started_at, $at)");
                if (kind == EntityKind.Task)
                {
                    sets.Add("attempts = attempts + 1");
                }

                break;
            case EntityKind.Run or EntityKind.Task or EntityKind.Step when StateMachines.IsFinal(kind, to):
                sets.Add("completed_at = $at");
                sets.Add("duration_ms = CASE WHEN started_at IS NULL THEN NULL ELSE MAX(0, CAST(ROUND((julianday($at) - julianday(started_at)) * 86400000) AS INTEGER)) END");
                break;
            case EntityKind.Worker when to == StateMachines.Worker.Terminated:
                sets.Add("terminated_at = $at");
                sets.Add("current_task_id = NULL");
                break;
            case EntityKind.Worker when to == StateMachines.Worker.Idle:
                sets.Add("current_task_id = NULL"); // an idle worker holds no task
                break;
            case EntityKind.Patch:
                sets.Add("updated_at = $at");
                break;
        }

        return $"UPDATE {table} SET {string.Join(", ", sets)} WHERE {key} = $id AND state = $from RETURNING run_id";
    }

    // Fixed-width UTC with milliseconds: sorts as text and is read by SQLite's date functions.
    public static string Format(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset Parse(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public static DateTimeOffset? ParseOrNull(object value) => value is string s ? Parse(s) : null;
}
