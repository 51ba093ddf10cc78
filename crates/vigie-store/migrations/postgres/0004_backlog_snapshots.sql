-- The backlog at each hour: trend queries read these instead of reconstructing the past.
-- `at` is the hour (epoch microseconds); `point` the server's JSON of the snapshot;
-- `source` says whether it was taken live or reconstructed from the status histories.
CREATE TABLE backlog_snapshots (
    at BIGINT PRIMARY KEY NOT NULL,
    source TEXT NOT NULL,
    point TEXT NOT NULL
);
