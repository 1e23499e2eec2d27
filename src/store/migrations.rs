//! Versioned schema migrations (SPEC §5), applied in order; the version is `PRAGMA user_version`.

/// Migration N (1-based) brings the schema from version N-1 to N.
pub const MIGRATIONS: &[&str] = &[
    // 1: the seed's five tables, with the reason code and event time kept on decisions.
    // An event has at most one traits row, decision, send request or suppression: those
    // rows take the event's id as their own, which also makes "one decision per event" a key.
    "
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        event_timestamp TEXT NOT NULL,
        properties TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
    );
    CREATE INDEX ix_events_user_type ON events (user_id, event_type, id);

    CREATE TABLE user_traits (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES events (id),
        email TEXT,
        country TEXT,
        marketing_opt_in INTEGER,
        risk_segment TEXT,
        extra TEXT NOT NULL DEFAULT '{}'
    );

    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL,
        event_id INTEGER NOT NULL REFERENCES events (id),
        event_type TEXT NOT NULL,
        event_timestamp TEXT NOT NULL,
        matched_rule TEXT,
        action_type TEXT NOT NULL,
        outcome TEXT NOT NULL,
        reason TEXT NOT NULL,
        reason_code TEXT NOT NULL,
        template_name TEXT,
        channel TEXT,
        created_at TEXT NOT NULL
    );
    -- A user's decisions (the audit) are found through ix_events_user_type: same ids.


    CREATE TABLE send_requests (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL,
        event_id INTEGER NOT NULL REFERENCES events (id),
        event_timestamp TEXT NOT NULL,
        template_name TEXT NOT NULL,
        channel TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX ix_send_requests_key ON send_requests (user_id, template_name, event_timestamp);


    CREATE TABLE suppressions (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL,
        event_id INTEGER NOT NULL REFERENCES events (id),
        template_name TEXT NOT NULL,
        suppression_reason TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    ",
    // 2: which send requests have their messages.txt line, so a crash between the commit
    // and the write is repaired at start (the line is written exactly once).
    "
    ALTER TABLE send_requests ADD COLUMN delivered INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX ix_send_requests_undelivered ON send_requests (id) WHERE delivered = 0;
    ",
];
