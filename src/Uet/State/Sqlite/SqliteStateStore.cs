using Microsoft.Data.Sqlite;

namespace Uet.State.Sqlite;

/// <summary>SQLite's synchronous setting for the store's connections.</summary>
public enum SqliteSynchronous
{
    Full,
    Normal,
}

/// <summary>
/// The SQLite backend: one database file in WAL mode, foreign keys on, a busy timeout so that a second process
/// waits instead of failing at once, and synchronous=FULL so a committed transition survives a power cut.
/// Reads take pooled connections; writes share one open connection, one transaction at a time, so one store can be
/// shared by many tasks of one process.
/// </summary>
public sealed partial class SqliteStateStore : StateStore
{
    private readonly string _connectionString;
    private readonly TimeProvider _clock;

    // Writes go through one connection kept open, one transaction at a time: its prepared statements live as long
    // as the store, and a transition costs no connection set-up. Reads use pooled connections (WAL: they never block).
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly Dictionary<string, SqliteCommand> _writeCommands = new(StringComparer.Ordinal);
    private SqliteConnection? _writer;

    private SqliteStateStore(string path, TimeProvider clock, TimeSpan busyTimeout, SqliteSynchronous synchronous)
    {
        Path = path;
        _clock = clock;
        BusyTimeout = busyTimeout;
        Synchronous = synchronous;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(busyTimeout.TotalSeconds)),
        }.ToString();
    }

    public string Path { get; }

    public TimeSpan BusyTimeout { get; }

    /// <summary>FULL (default): a committed transition survives a power cut. NORMAL: it survives a crash of uet, not of the machine.</summary>
    public SqliteSynchronous Synchronous { get; }

    public override int LatestSchemaVersion => SqliteMigrations.Latest;

    public override string Description => Path;

    /// <summary>Opens (and with <paramref name="create"/>, creates) the database file. Does not migrate.</summary>
    public static SqliteStateStore Open(
        string path,
        TimeProvider clock,
        bool create = false,
        TimeSpan? busyTimeout = null,
        SqliteSynchronous synchronous = SqliteSynchronous.Full)
    {
        if (!create && !File.Exists(path))
        {
            throw StateException.NoDatabase(path);
        }

        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        return new SqliteStateStore(path, clock, busyTimeout ?? TimeSpan.FromSeconds(5), synchronous);
    }

    /// <summary>
    /// Opens an existing database at this build's schema. Older or newer ones are refused with what to do: commands
    /// other than <c>uet init</c> never change a schema behind the user's back.
    /// </summary>
    public static async Task<SqliteStateStore> OpenCurrentAsync(string path, TimeProvider clock, CancellationToken cancellationToken)
    {
        var store = Open(path, clock);
        try
        {
            var version = await store.GetSchemaVersionAsync(cancellationToken).ConfigureAwait(false);
            if (version > store.LatestSchemaVersion)
            {
                throw StateException.NewerSchema(path, version, store.LatestSchemaVersion);
            }

            if (version < store.LatestSchemaVersion)
            {
                throw StateException.OldSchema(path, version, store.LatestSchemaVersion);
            }

            return store;
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    internal SqliteConnection OpenConnection()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            using var pragmas = connection.CreateCommand();
            pragmas.CommandText =
                $"PRAGMA busy_timeout = {(int)BusyTimeout.TotalMilliseconds}; PRAGMA foreign_keys = ON; "
                + $"PRAGMA synchronous = {(Synchronous == SqliteSynchronous.Full ? "FULL" : "NORMAL")};";
            pragmas.ExecuteNonQuery();
            return connection;
        }
        catch (SqliteException ex) when (Translate(ex) is { } userError)
        {
            connection.Dispose();
            throw userError;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>The SQLite errors a user can act on, as <see cref="StateException"/>s; null for anything else (a bug).</summary>
    internal StateException? Translate(SqliteException ex) => ex.SqliteErrorCode switch
    {
        5 or 6 => StateException.Busy(Path, ex), // SQLITE_BUSY, SQLITE_LOCKED
        8 => StateException.Unusable(Path, "it is read-only (file or folder permissions); uet needs to write to it and its folder", ex),
        10 => StateException.Unusable(Path, "a disk I/O error; check the disk and the file", ex),
        11 or 26 => StateException.Unusable(Path, "it is not a SQLite database, or it is damaged; move it away and run 'uet init' for a new one", ex),
        13 => StateException.Unusable(Path, "the disk is full", ex),
        14 => StateException.Unusable(Path, "it cannot be opened (missing folder or no permission)", ex),
        _ => null,
    };

    public override Task MigrateAsync(int? targetVersion, CancellationToken cancellationToken) => Guard(() =>
    {
        using var connection = OpenConnection();
        using (var wal = connection.CreateCommand())
        {
            // WAL lets readers (uet status, uet events -f) read while a run writes.
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            wal.ExecuteNonQuery();
        }

        SqliteMigrations.Apply(connection, targetVersion ?? LatestSchemaVersion, _clock.GetUtcNow(), Path);
        return 0;
    });

    public override Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken) => Guard(() =>
    {
        using var connection = OpenConnection();
        return SqliteMigrations.CurrentVersion(connection);
    });

    public override async Task<StoreTransaction> BeginAsync(CancellationToken cancellationToken)
    {
        // Counted before the wait: a transaction that commits while another writer is on its way may leave the physical
        // commit to it (group commit, see SqliteStateStore.Group.cs).
        Interlocked.Increment(ref _entering);
        try
        {
            await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (Interlocked.Decrement(ref _entering) == 0)
            {
                _ = SettleAbandonedGroupAsync(); // never throws; the cancelled caller does not wait for it
            }

            throw;
        }

        Interlocked.Decrement(ref _entering);
        try
        {
            if (_syncFailed is { } failed)
            {
                throw failed; // an fsync failed: what the kernel keeps of the file is not known
            }

            _writer ??= OpenWriter();
            // IMMEDIATE: take the write lock before reading, so a check-then-write can never interleave with another writer.
            _group ??= await Guard(() => _writer.BeginTransaction(deferred: false)).ConfigureAwait(false);
            var group = _group;
            await Guard(() =>
            {
                ExecuteWrite(group, "SAVEPOINT " + Savepoint);
                return 0;
            }).ConfigureAwait(false);
            return new SqliteStoreTransaction(this, group, _clock, _writeCommands);
        }
        catch
        {
            EndWrite(broken: false, settleGroup: true);
            throw;
        }
    }

    /// <summary>
    /// A statement without parameters on the write connection, prepared once: SqliteTransaction's Save, Release and
    /// Rollback(name) prepare theirs again at each call, and a task makes two transactions, each a savepoint.
    /// </summary>
    internal void ExecuteWrite(SqliteTransaction transaction, string sql)
    {
        if (!_writeCommands.TryGetValue(sql, out var command))
        {
            command = _writer!.CreateCommand();
            command.CommandText = sql;
            _writeCommands[sql] = command;
        }

        command.Transaction = transaction;
        command.Parameters.Clear();
        command.ExecuteNonQuery();
    }

    private void DropWriter()
    {
        foreach (var command in _writeCommands.Values)
        {
            command.Dispose();
        }

        _writeCommands.Clear();
        _writer?.Dispose();
        _writer = null;
    }

    public override Task<IReadOnlyList<RunRecord>> ListRunsAsync(int limit, CancellationToken cancellationToken) =>
        Query<RunRecord>(
            "SELECT run_id, state, created_at, started_at, completed_at, duration_ms FROM runs ORDER BY created_at DESC, run_id LIMIT $limit",
            c => c.Parameters.AddWithValue("$limit", limit),
            r => new RunRecord(r.GetString(0), r.GetString(1), SqliteSchema.Parse(r.GetString(2)), SqliteSchema.ParseOrNull(r.GetValue(3)),
                SqliteSchema.ParseOrNull(r.GetValue(4)), r.IsDBNull(5) ? null : r.GetInt64(5)));

    public override Task<IReadOnlyList<WorkerRecord>> ListWorkersAsync(CancellationToken cancellationToken) =>
        Query(SqliteStoreTransaction.WorkerSelect + " ORDER BY created_at, worker_id", _ => { }, SqliteStoreTransaction.ReadWorker);

    public override async Task<IReadOnlyDictionary<string, int>> CountTasksByStateAsync(string runId, CancellationToken cancellationToken)
    {
        var rows = await Query(
            "SELECT state, COUNT(*) FROM tasks WHERE run_id = $run GROUP BY state",
            c => c.Parameters.AddWithValue("$run", runId),
            r => (State: r.GetString(0), Count: r.GetInt32(1))).ConfigureAwait(false);
        return rows.ToDictionary(r => r.State, r => r.Count, StringComparer.Ordinal);
    }

    public override Task<IReadOnlyList<TaskRecord>> ListTasksAsync(string runId, CancellationToken cancellationToken) =>
        Query("SELECT task_id, workstream_id, state FROM tasks WHERE run_id = $run ORDER BY task_id",
            c => c.Parameters.AddWithValue("$run", runId),
            r => new TaskRecord(r.GetString(0), r.GetString(1), r.GetString(2)));

    public override async Task<string?> RunConfigAsync(string runId, CancellationToken cancellationToken) =>
        (await Query("SELECT config FROM runs WHERE run_id = $run",
            c => c.Parameters.AddWithValue("$run", runId),
            r => r.IsDBNull(0) ? null : r.GetString(0)).ConfigureAwait(false)).FirstOrDefault();

    public override Task<IReadOnlyList<(string WorkstreamId, string Definition)>> RunWorkstreamsAsync(string runId, CancellationToken cancellationToken) =>
        Query("SELECT workstream_id, definition FROM run_workstreams WHERE run_id = $run ORDER BY workstream_id",
            c => c.Parameters.AddWithValue("$run", runId),
            r => (r.GetString(0), r.GetString(1)));

    public override Task<IReadOnlyList<OpenPatch>> OpenPatchesAsync(string runId, CancellationToken cancellationToken) =>
        Query("SELECT patch_id, task_id, state, sha256 FROM patches WHERE run_id = $run AND state IN ('created', 'validated', 'queued', 'applied', 'verified') ORDER BY patch_id",
            c => c.Parameters.AddWithValue("$run", runId),
            r => new OpenPatch(r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3)));

    public override Task<IReadOnlyList<string>> RunningStepsAsync(string runId, CancellationToken cancellationToken) =>
        Query("SELECT step_id FROM steps WHERE run_id = $run AND state = 'running' ORDER BY step_id",
            c => c.Parameters.AddWithValue("$run", runId),
            r => r.GetString(0));

    public override Task<IReadOnlyList<string>> CommittedTasksAsync(string runId, CancellationToken cancellationToken) =>
        Query("SELECT DISTINCT task_id FROM patches WHERE run_id = $run AND state = 'committed'",
            c => c.Parameters.AddWithValue("$run", runId),
            r => r.GetString(0));

    public override Task<IReadOnlyList<(int Attempt, string Error, string? PatchSha256)>> FailedAttemptsAsync(string taskId, CancellationToken cancellationToken) =>
        Query("""
            SELECT s.attempt, COALESCE(json_extract(e.data, '$.reason'), ''), p.sha256
            FROM steps s
            JOIN events e ON e.entity = 'step' AND e.entity_id = s.step_id AND e.to_state = 'failed'
            LEFT JOIN patches p ON p.patch_id = s.step_id
            WHERE s.task_id = $task AND s.state = 'failed'
            ORDER BY s.attempt
            """,
            c => c.Parameters.AddWithValue("$task", taskId),
            r => (r.GetInt32(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2)));

    public override async Task<int> LastAttemptAsync(string taskId, CancellationToken cancellationToken) =>
        (await Query("SELECT COALESCE(MAX(attempt), 0) FROM steps WHERE task_id = $task",
            c => c.Parameters.AddWithValue("$task", taskId),
            r => r.GetInt32(0)).ConfigureAwait(false))[0];

    public override async Task<ToolUsage> TaskUsageAsync(string taskId, CancellationToken cancellationToken) =>
        (await Query("SELECT SUM(cost_usd), SUM(input_tokens), SUM(output_tokens) FROM steps WHERE task_id = $task",
            c => c.Parameters.AddWithValue("$task", taskId),
            r => new ToolUsage(
                r.IsDBNull(0) ? null : r.GetDouble(0),
                r.IsDBNull(1) ? null : r.GetInt64(1),
                r.IsDBNull(2) ? null : r.GetInt64(2))).ConfigureAwait(false))[0];

    public override async Task<IReadOnlyList<StateEvent>> ReadEventsAsync(EventQuery query, CancellationToken cancellationToken)
    {
        var filter = "WHERE event_id > $after"
            + (query.RunId is null ? string.Empty : " AND run_id = $run")
            + (query.EventType is null ? string.Empty : " AND (event_type = $type OR substr(event_type, 1, length($typePrefix)) = $typePrefix)");
        var sql = query.Tail is { } tail
            ? $"SELECT * FROM (SELECT {EventColumns} FROM events {filter} ORDER BY event_id DESC LIMIT {tail}) ORDER BY event_id"
            : $"SELECT {EventColumns} FROM events {filter} ORDER BY event_id LIMIT {query.Limit}";
        return await Query(sql, c =>
        {
            c.Parameters.AddWithValue("$after", query.AfterEventId);
            c.Parameters.AddWithValue("$run", (object?)query.RunId ?? DBNull.Value);
            c.Parameters.AddWithValue("$type", (object?)query.EventType ?? DBNull.Value);
            // "--type task" matches task.created, task.running, ...
            c.Parameters.AddWithValue("$typePrefix", query.EventType is null ? DBNull.Value : query.EventType + ".");
        }, ReadEvent).ConfigureAwait(false);
    }

    public override async Task<RunLockRecord?> GetRunLockAsync(CancellationToken cancellationToken) =>
        (await Query(SqliteStoreTransaction.RunLockSelect, _ => { }, SqliteStoreTransaction.ReadRunLock).ConfigureAwait(false)).FirstOrDefault();

    public override ValueTask DisposeAsync()
    {
        FailOpenGroup();
        DropWriter();
        _writeGate.Dispose();
        ForgetWal();

        // Pooled connections keep the file open (and its WAL files around) until the pool lets go of them.
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
        return ValueTask.CompletedTask;
    }

    private const string EventColumns = "event_id, run_id, entity, entity_id, event_type, from_state, to_state, at, data";

    private static StateEvent ReadEvent(SqliteDataReader r) => new(
        r.GetInt64(0),
        r.IsDBNull(1) ? null : r.GetString(1),
        Enum.Parse<EntityKind>(r.GetString(2), ignoreCase: true),
        r.GetString(3),
        r.GetString(4),
        r.IsDBNull(5) ? null : r.GetString(5),
        r.IsDBNull(6) ? null : r.GetString(6),
        SqliteSchema.Parse(r.GetString(7)),
        r.IsDBNull(8) ? null : r.GetString(8));

    private Task<IReadOnlyList<T>> Query<T>(string sql, Action<SqliteCommand> bind, Func<SqliteDataReader, T> read) => Guard<IReadOnlyList<T>>(() =>
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        bind(command);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(read(reader));
        }

        return rows;
    });

    // Microsoft.Data.Sqlite is synchronous underneath; the async signatures keep the boundary ready for PostgreSQL.
    internal Task<T> Guard<T>(Func<T> action)
    {
        try
        {
            return Task.FromResult(action());
        }
        catch (SqliteException ex) when (Translate(ex) is { } userError)
        {
            throw userError;
        }
    }
}
