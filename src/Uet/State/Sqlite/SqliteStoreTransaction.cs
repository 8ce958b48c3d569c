using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace Uet.State.Sqlite;

/// <summary>
/// One IMMEDIATE transaction on the store's write connection. Statements are prepared once per store and reused
/// by every transaction. Disposing without <see cref="CommitAsync"/> rolls back.
/// </summary>
internal sealed partial class SqliteStoreTransaction : StoreTransaction
{
    internal const string WorkerSelect =
        "SELECT worker_id, run_id, state, current_task_id, host, pid, created_at, heartbeat_at, lease_expires_at, terminated_at FROM workers";

    internal const string RunLockSelect =
        "SELECT run_id, owner_host, owner_pid, acquired_at, heartbeat_at, lease_expires_at FROM run_lock WHERE lock_id = 1";

    private const string ReleaseSavepoint = "RELEASE " + SqliteStateStore.Savepoint;

    private readonly SqliteStateStore _store;
    private readonly SqliteTransaction _transaction;
    private readonly Dictionary<string, SqliteCommand> _commands;
    private bool _committed;
    private bool _disposed;
    private bool _gateReleased;

    public SqliteStoreTransaction(SqliteStateStore store, SqliteTransaction transaction, TimeProvider clock, Dictionary<string, SqliteCommand> commands)
    {
        _store = store;
        _transaction = transaction;
        _commands = commands;
        Clock = clock;
    }

    public override TimeProvider Clock { get; }

    private static readonly HashSet<string> ChangerOwned = new(StringComparer.Ordinal)
    {
        "state", "run_id", "created_at", "started_at", "completed_at", "duration_ms", "terminated_at", "updated_at", "attempts",
    };

    [GeneratedRegex("^[a-z_][a-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex ColumnName();

    internal override Task InsertAsync(NewEntity entity, string initialState, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var (table, key) = SqliteSchema.TableOf(entity.Kind);
        var values = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            [key] = entity.Id,
            ["state"] = initialState,
            ["created_at"] = SqliteSchema.Format(at),
        };
        if (entity.Kind != EntityKind.Run && entity.RunId is not null)
        {
            values["run_id"] = entity.RunId;
        }

        if (entity.Kind == EntityKind.Patch)
        {
            values["updated_at"] = SqliteSchema.Format(at);
        }

        foreach (var (column, value) in entity.Columns)
        {
            // Column names come from engine code, never from users; the check keeps it that way. The columns the
            // state changer owns can never be set at creation, or an entity could be born past its initial state.
            if (!ColumnName().IsMatch(column) || values.ContainsKey(column) || ChangerOwned.Contains(column))
            {
                throw new ArgumentException($"column '{column}' cannot be set when creating a {entity.Kind.Name()}", nameof(entity));
            }

            values[column] = value is DateTimeOffset time ? SqliteSchema.Format(time) : value;
        }

        var columns = values.Keys.ToArray();
        var command = Command($"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select(c => "$" + c))})");
        foreach (var column in columns)
        {
            Set(command, "$" + column, values[column]);
        }

        return Run(() => command.ExecuteNonQuery());
    }

    public override Task<EntityState?> GetStateAsync(EntityKind kind, string id, CancellationToken cancellationToken)
    {
        var (table, key) = SqliteSchema.TableOf(kind);
        var command = Command($"SELECT state, run_id FROM {table} WHERE {key} = $id");
        Set(command, "$id", id);
        return Run<EntityState?>(() =>
        {
            using var reader = command.ExecuteReader();
            return reader.Read() ? new EntityState(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1)) : null;
        });
    }

    internal override Task<EntityState?> WriteStateAsync(EntityKind kind, string id, string from, string to, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var command = Command(SqliteSchema.TransitionSql(kind, to));
        Set(command, "$id", id);
        Set(command, "$from", from);
        Set(command, "$to", to);
        Set(command, "$at", SqliteSchema.Format(at));
        return Run<EntityState?>(() =>
        {
            using var reader = command.ExecuteReader();
            return reader.Read() ? new EntityState(to, reader.IsDBNull(0) ? null : reader.GetString(0)) : null;
        });
    }

    internal override Task AppendEventAsync(StateEvent stateEvent, CancellationToken cancellationToken)
    {
        var command = Command(
            "INSERT INTO events (run_id, entity, entity_id, event_type, from_state, to_state, at, data) "
            + "VALUES ($run, $entity, $entity_id, $type, $from, $to, $at, $data)");
        Set(command, "$run", stateEvent.RunId);
        Set(command, "$entity", stateEvent.Entity.Name());
        Set(command, "$entity_id", stateEvent.EntityId);
        Set(command, "$type", stateEvent.EventType);
        Set(command, "$from", stateEvent.FromState);
        Set(command, "$to", stateEvent.ToState);
        Set(command, "$at", SqliteSchema.Format(stateEvent.At));
        Set(command, "$data", stateEvent.Data);
        return Run(() => command.ExecuteNonQuery());
    }

    public override Task<IReadOnlyList<WorkerRecord>> WorkersWithExpiredLeaseAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var command = Command(WorkerSelect + " WHERE state IN ('IDLE', 'BUSY', 'DRAINING') AND COALESCE(lease_expires_at, heartbeat_at, created_at) < $now ORDER BY worker_id");
        Set(command, "$now", SqliteSchema.Format(now));
        return ReadWorkers(command);
    }

    public override Task<IReadOnlyList<WorkerRecord>> WorkersInStatesAsync(IReadOnlyList<string> states, CancellationToken cancellationToken)
    {
        var names = states.Select((_, i) => "$s" + i).ToArray();
        var command = Command($"{WorkerSelect} WHERE state IN ({string.Join(", ", names)}) ORDER BY worker_id");
        for (var i = 0; i < states.Count; i++)
        {
            Set(command, names[i], states[i]);
        }

        return ReadWorkers(command);
    }

    public override Task<int> SetWorkerLeaseAsync(string workerId, DateTimeOffset heartbeat, DateTimeOffset leaseExpires, CancellationToken cancellationToken)
    {
        // Only a live worker renews its lease: one found dead has lost its task and must learn it, not carry on.
        var command = Command("UPDATE workers SET heartbeat_at = $hb, lease_expires_at = $lease WHERE worker_id = $id AND state IN ('IDLE', 'BUSY', 'DRAINING')");
        Set(command, "$hb", SqliteSchema.Format(heartbeat));
        Set(command, "$lease", SqliteSchema.Format(leaseExpires));
        Set(command, "$id", workerId);
        return Run(() => command.ExecuteNonQuery());
    }

    public override Task SetWorkerTaskAsync(string workerId, string? taskId, CancellationToken cancellationToken)
    {
        var command = Command("UPDATE workers SET current_task_id = $task WHERE worker_id = $id");
        Set(command, "$task", taskId);
        Set(command, "$id", workerId);
        return Run(() => command.ExecuteNonQuery());
    }

    public override Task<bool> SetTaskWorkerAsync(string taskId, string? workerId, CancellationToken cancellationToken)
    {
        var command = Command("UPDATE tasks SET worker_id = $worker WHERE task_id = $task");
        Set(command, "$worker", workerId);
        Set(command, "$task", taskId);
        return Run(() => command.ExecuteNonQuery() == 1);
    }

    public override Task<string?> TaskWorkerAsync(string taskId, CancellationToken cancellationToken)
    {
        var command = Command("SELECT worker_id FROM tasks WHERE task_id = $task");
        Set(command, "$task", taskId);
        return Run(() => command.ExecuteScalar() as string);
    }

    public override Task<string?> RunningStepOfTaskAsync(string taskId, CancellationToken cancellationToken)
    {
        var command = Command("SELECT step_id FROM steps WHERE task_id = $task AND state = 'running' ORDER BY attempt DESC LIMIT 1");
        Set(command, "$task", taskId);
        return Run(() => command.ExecuteScalar() as string);
    }

    public override Task SetStepUsageAsync(string stepId, string tool, ToolUsage usage, CancellationToken cancellationToken)
    {
        var command = Command("UPDATE steps SET tool = $tool, cost_usd = $cost, input_tokens = $in, output_tokens = $out WHERE step_id = $step");
        Set(command, "$tool", tool);
        Set(command, "$cost", usage.CostUsd);
        Set(command, "$in", usage.InputTokens);
        Set(command, "$out", usage.OutputTokens);
        Set(command, "$step", stepId);
        return Run(() => command.ExecuteNonQuery());
    }

    public override Task<RunLockRecord?> GetRunLockAsync(CancellationToken cancellationToken)
    {
        var command = Command(RunLockSelect);
        return Run<RunLockRecord?>(() =>
        {
            using var reader = command.ExecuteReader();
            return reader.Read() ? ReadRunLock(reader) : null;
        });
    }

    public override Task AddRunWorkstreamAsync(string runId, string workstreamId, string definition, CancellationToken cancellationToken)
    {
        var command = Command("INSERT INTO run_workstreams (run_id, workstream_id, definition) VALUES ($run, $ws, $definition)");
        Set(command, "$run", runId);
        Set(command, "$ws", workstreamId);
        Set(command, "$definition", definition);
        return Run(() => command.ExecuteNonQuery());
    }

    public override Task WriteRunLockAsync(RunLockRecord? lockRecord, CancellationToken cancellationToken)
    {
        if (lockRecord is null)
        {
            var delete = Command("DELETE FROM run_lock WHERE lock_id = 1");
            return Run(() => delete.ExecuteNonQuery());
        }

        var command = Command(
            "INSERT OR REPLACE INTO run_lock (lock_id, run_id, owner_host, owner_pid, acquired_at, heartbeat_at, lease_expires_at) "
            + "VALUES (1, $run, $host, $pid, $acquired, $hb, $lease)");
        Set(command, "$run", lockRecord.RunId);
        Set(command, "$host", lockRecord.OwnerHost);
        Set(command, "$pid", lockRecord.OwnerPid);
        Set(command, "$acquired", SqliteSchema.Format(lockRecord.AcquiredAt));
        Set(command, "$hb", SqliteSchema.Format(lockRecord.HeartbeatAt));
        Set(command, "$lease", SqliteSchema.Format(lockRecord.LeaseExpiresAt));
        return Run(() => command.ExecuteNonQuery());
    }

    public override async Task CommitAsync(CancellationToken cancellationToken)
    {
        // This transaction's savepoint joins the physical transaction; the store commits that now, or hands it over to
        // the writer already waiting and returns the group's commit to wait for (durable once it completes).
        await Run(() =>
        {
            _store.ExecuteWrite(_transaction, ReleaseSavepoint);
            return 0;
        }).ConfigureAwait(false);
        _committed = true;
        var group = _store.CommitOrHandOver(out var committed);
        // Either way the gate goes now: to the writer the commit is handed to, or free while the WAL is synced.
        _gateReleased = true;
        _store.EndWrite(broken: false, settleGroup: false);
        if (group is not null)
        {
            await group.ConfigureAwait(false);
        }
        else
        {
            _store.Settle(committed); // durable when this returns; throws when it could not be made so
        }
    }

    public override ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return ValueTask.CompletedTask;
        }

        _disposed = true;
        if (_gateReleased)
        {
            return ValueTask.CompletedTask; // the commit freed the gate (for the writer it handed the group to, or during its sync)
        }

        var broken = false;
        try
        {
            if (!_committed)
            {
                // Only this transaction's own changes are undone; the group it joined goes on.
                _store.ExecuteWrite(_transaction, "ROLLBACK TO " + SqliteStateStore.Savepoint);
                _store.ExecuteWrite(_transaction, ReleaseSavepoint);
            }
        }
        catch (Exception ex) when (ex is SqliteException or InvalidOperationException)
        {
            // A rollback that fails (SQLite rolled the whole transaction back after an I/O error, say) leaves the
            // connection and the group in doubt: the store fails the group and replaces the connection.
            broken = true;
        }
        finally
        {
            _store.EndWrite(broken, settleGroup: true);
        }

        return ValueTask.CompletedTask;
    }

    internal static WorkerRecord ReadWorker(SqliteDataReader r) => new(
        r.GetString(0),
        r.IsDBNull(1) ? null : r.GetString(1),
        r.GetString(2),
        r.IsDBNull(3) ? null : r.GetString(3),
        r.IsDBNull(4) ? null : r.GetString(4),
        r.IsDBNull(5) ? null : r.GetInt32(5),
        SqliteSchema.Parse(r.GetString(6)),
        SqliteSchema.ParseOrNull(r.GetValue(7)),
        SqliteSchema.ParseOrNull(r.GetValue(8)),
        SqliteSchema.ParseOrNull(r.GetValue(9)));

    internal static RunLockRecord ReadRunLock(SqliteDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetInt32(2), SqliteSchema.Parse(r.GetString(3)), SqliteSchema.Parse(r.GetString(4)), SqliteSchema.Parse(r.GetString(5)));

    private Task<IReadOnlyList<WorkerRecord>> ReadWorkers(SqliteCommand command) => Run<IReadOnlyList<WorkerRecord>>(() =>
    {
        using var reader = command.ExecuteReader();
        var workers = new List<WorkerRecord>();
        while (reader.Read())
        {
            workers.Add(ReadWorker(reader));
        }

        return workers;
    });

    private SqliteCommand Command(string sql)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = _transaction.Connection!.CreateCommand();
            command.CommandText = sql;
            _commands[sql] = command;
        }

        command.Transaction = _transaction;
        command.Parameters.Clear();
        return command;
    }

    private static void Set(SqliteCommand command, string name, object? value) =>
        command.Parameters.AddWithValue(name, value ?? DBNull.Value);

    private Task<T> Run<T>(Func<T> action) => _store.Guard(action);
}
