using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Uet.State;
using Uet.State.Sqlite;

namespace Uet.Bench;

/// <summary>
/// The engine side: a chain of worker transitions IDLE -> BUSY -> IDLE ... on one worker, each through
/// <see cref="StateChanger.ChangeAsync"/> (read state, check the machine, guarded UPDATE, event INSERT).
/// </summary>
internal sealed class EngineTarget(SqliteStateStore store, SqliteStateStore normalStore, string workerId)
{
    private bool _idle;

    /// <summary>Transitions written so far (the created event and SPAWNING -> IDLE not included).</summary>
    public long Transitions { get; private set; }

    public static async Task<EngineTarget> CreateAsync(SqliteStateStore store, SqliteStateStore normalStore, string workerId, CancellationToken cancellationToken)
    {
        await using (var tx = await store.BeginAsync(cancellationToken))
        {
            await StateChanger.CreateAsync(tx, new NewEntity(EntityKind.Worker, workerId, null, new Dictionary<string, object?>()), cancellationToken);
            await StateChanger.ChangeAsync(tx, EntityKind.Worker, workerId, StateMachines.Worker.Idle, null, cancellationToken);
            await tx.CommitAsync(cancellationToken);
        }

        return new EngineTarget(store, normalStore, workerId) { _idle = true };
    }

    /// <summary>Writes <paramref name="count"/> transitions, <paramref name="batch"/> per transaction; returns seconds.</summary>
    public async Task<double> RunAsync(int count, int batch, bool normal, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        for (var done = 0; done < count;)
        {
            var n = Math.Min(batch, count - done);
            // The NORMAL rows use a second store on the same file, opened with SqliteSynchronous.Normal.
            await using (var tx = await (normal ? normalStore : store).BeginAsync(cancellationToken))
            {
                for (var j = 0; j < n; j++)
                {
                    var to = _idle ? StateMachines.Worker.Busy : StateMachines.Worker.Idle;
                    await StateChanger.ChangeAsync(tx, EntityKind.Worker, workerId, to, null, cancellationToken);
                    _idle = !_idle;
                }

                await tx.CommitAsync(cancellationToken);
            }

            done += n;
            Transitions += n;
        }

        return stopwatch.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Diagnostic: the same SQL a transition runs (SELECT state, guarded UPDATE, event INSERT), hand-written on one
    /// connection with three prepared commands, no <see cref="StateChanger"/>: splits the engine's overhead from the SQL work.
    /// </summary>
    public double RunSameSql(int count, int batch, bool normal)
    {
        using var connection = store.OpenConnection();
        if (normal)
        {
            RawTarget.Execute(connection, "PRAGMA synchronous = NORMAL;");
        }

        using var select = Prepare(connection, "SELECT state, run_id FROM workers WHERE worker_id = $id", "$id");
        using var update = Prepare(connection, SqliteSchema.TransitionSql(EntityKind.Worker, StateMachines.Worker.Busy), "$id", "$from", "$to", "$at");
        using var insert = Prepare(
            connection,
            "INSERT INTO events (run_id, entity, entity_id, event_type, from_state, to_state, at, data) VALUES ($run, 'worker', $id, $type, $from, $to, $at, NULL)",
            "$run", "$id", "$type", "$from", "$to", "$at");
        select.Parameters["$id"].Value = workerId;
        update.Parameters["$id"].Value = workerId;
        insert.Parameters["$id"].Value = workerId;
        insert.Parameters["$run"].Value = DBNull.Value;

        var stopwatch = Stopwatch.StartNew();
        for (var done = 0; done < count;)
        {
            var n = Math.Min(batch, count - done);
            using (var transaction = connection.BeginTransaction(deferred: false))
            {
                select.Transaction = update.Transaction = insert.Transaction = transaction;
                for (var j = 0; j < n; j++)
                {
                    var from = (string)select.ExecuteScalar()!;
                    var to = from == StateMachines.Worker.Idle ? StateMachines.Worker.Busy : StateMachines.Worker.Idle;
                    var at = SqliteSchema.Format(TimeProvider.System.GetUtcNow());
                    update.Parameters["$from"].Value = insert.Parameters["$from"].Value = from;
                    update.Parameters["$to"].Value = insert.Parameters["$to"].Value = to;
                    update.Parameters["$at"].Value = insert.Parameters["$at"].Value = at;
                    insert.Parameters["$type"].Value = to == StateMachines.Worker.Busy ? "worker.busy" : "worker.idle";
                    if (update.ExecuteNonQuery() != 1)
                    {
                        throw new InvalidOperationException("guarded update matched no row");
                    }

                    insert.ExecuteNonQuery();
                    _idle = !_idle;
                }

                transaction.Commit();
            }

            done += n;
            Transitions += n;
        }

        return stopwatch.Elapsed.TotalSeconds;
    }

    private static SqliteCommand Prepare(SqliteConnection connection, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(name, SqliteType.Text);
        }

        command.Prepare();
        return command;
    }
}

/// <summary>
/// The baseline: one INSERT per row into a scratch table, on a connection opened the way the store opens its own
/// (same file, same pragmas), with one prepared command reused for the whole loop.
/// </summary>
internal sealed class RawTarget
{
    // About the size of an event row (entity, id, type, from, to, timestamp).
    private const string Payload = "worker|w-bench|worker.busy|IDLE|BUSY|2026-11-29T08:51:04.1234567+00:00";

    public static void CreateTable(SqliteStateStore store)
    {
        using var connection = store.OpenConnection();
        Execute(connection, "CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY, payload TEXT)");
    }

    /// <summary>Inserts <paramref name="count"/> rows, <paramref name="batch"/> per transaction; returns seconds.</summary>
    public static double Run(SqliteStateStore store, int count, int batch, bool normal)
    {
        using var connection = store.OpenConnection();
        if (normal)
        {
            Execute(connection, "PRAGMA synchronous = NORMAL;");
        }

        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO bench_raw (payload) VALUES ($payload)";
        var payload = insert.Parameters.Add("$payload", SqliteType.Text);
        payload.Value = Payload;
        insert.Prepare();

        var stopwatch = Stopwatch.StartNew();
        for (var done = 0; done < count;)
        {
            var n = Math.Min(batch, count - done);
            using (var transaction = connection.BeginTransaction(deferred: false))
            {
                insert.Transaction = transaction;
                for (var j = 0; j < n; j++)
                {
                    insert.ExecuteNonQuery();
                }

                transaction.Commit();
            }

            done += n;
        }

        return stopwatch.Elapsed.TotalSeconds;
    }

    public static long Scalar(SqliteStateStore store, string sql)
    {
        using var connection = store.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    internal static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
