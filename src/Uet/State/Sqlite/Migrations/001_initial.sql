-- uet state, version 1: the original plan's six tables with their CHECK constraints,
-- plus the schema version and the workstream definitions of each run.
CREATE TABLE schema_version (
    version     INTEGER NOT NULL PRIMARY KEY,
    applied_at  TEXT    NOT NULL
);

CREATE TABLE runs (
    run_id        TEXT PRIMARY KEY,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    plan_hash     TEXT,
    created_at    TEXT NOT NULL,
    started_at    TEXT,
    completed_at  TEXT,
    duration_ms   INTEGER CHECK (duration_ms IS NULL OR duration_ms >= 0),
    metadata      TEXT
);

CREATE TABLE run_workstreams (
    run_id         TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    workstream_id  TEXT NOT NULL,
    definition     TEXT NOT NULL,
    PRIMARY KEY (run_id, workstream_id)
);

CREATE TABLE workers (
    worker_id        TEXT PRIMARY KEY,
    run_id           TEXT REFERENCES runs (run_id),
    state            TEXT NOT NULL CHECK (state IN ('SPAWNING', 'IDLE', 'BUSY', 'DRAINING', 'TERMINATED')),
    current_task_id  TEXT,
    host             TEXT,
    pid              INTEGER,
    created_at       TEXT NOT NULL,
    heartbeat_at     TEXT,
    terminated_at    TEXT,
    CHECK (state <> 'TERMINATED' OR terminated_at IS NOT NULL)
);

CREATE TABLE tasks (
    task_id        TEXT PRIMARY KEY,
    run_id         TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    workstream_id  TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('pending', 'ready', 'running', 'completed', 'failed', 'blocked')),
    attempts       INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    worker_id      TEXT REFERENCES workers (worker_id),
    created_at     TEXT NOT NULL,
    started_at     TEXT,
    completed_at   TEXT,
    duration_ms    INTEGER CHECK (duration_ms IS NULL OR duration_ms >= 0),
    error          TEXT,
    UNIQUE (run_id, workstream_id)
);

CREATE TABLE steps (
    step_id       TEXT PRIMARY KEY,
    task_id       TEXT NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
    run_id        TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    attempt       INTEGER NOT NULL CHECK (attempt >= 1),
    state         TEXT NOT NULL CHECK (state IN ('pending', 'running', 'completed', 'failed', 'skipped')),
    created_at    TEXT NOT NULL,
    started_at    TEXT,
    completed_at  TEXT,
    duration_ms   INTEGER CHECK (duration_ms IS NULL OR duration_ms >= 0),
    exit_code     INTEGER,
    error         TEXT,
    UNIQUE (task_id, attempt)
);

CREATE TABLE patches (
    patch_id       TEXT PRIMARY KEY,
    task_id        TEXT NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
    run_id         TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    state          TEXT NOT NULL CHECK (state IN ('created', 'validated', 'queued', 'applied', 'verified', 'committed',
                                                  'quarantined', 'dropped', 'apply_failed', 'rolled_back')),
    sha256         TEXT,
    path           TEXT,
    files          TEXT,
    lines_added    INTEGER CHECK (lines_added IS NULL OR lines_added >= 0),
    lines_removed  INTEGER CHECK (lines_removed IS NULL OR lines_removed >= 0),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE TABLE events (
    event_id    INTEGER PRIMARY KEY,  -- rowid: ascending, and events are never deleted
    run_id      TEXT,
    entity      TEXT NOT NULL CHECK (entity IN ('run', 'task', 'step', 'worker', 'patch')),
    entity_id   TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT,
    at          TEXT NOT NULL,
    data        TEXT
);

CREATE INDEX events_by_run ON events (run_id, event_id);
CREATE INDEX tasks_by_run_state ON tasks (run_id, state);
