-- uet state, version 2: worker leases (a worker whose heartbeat is older than its lease is dead) and
-- the live-run lock (one run per state database at a time).
ALTER TABLE workers ADD COLUMN lease_expires_at TEXT;
-- Workers from version 1 had no lease: their lease ended with their last sign of life.
UPDATE workers SET lease_expires_at = COALESCE(heartbeat_at, created_at) WHERE state <> 'TERMINATED';

CREATE TABLE run_lock (
    lock_id           INTEGER PRIMARY KEY CHECK (lock_id = 1),
    run_id            TEXT NOT NULL,
    owner_host        TEXT NOT NULL,
    owner_pid         INTEGER NOT NULL,
    acquired_at       TEXT NOT NULL,
    heartbeat_at      TEXT NOT NULL,
    lease_expires_at  TEXT NOT NULL
);
