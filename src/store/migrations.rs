//! Versioned schema migrations (SPEC §5), the same versions for both backends, each in its
//! dialect; SQLite keeps the version in `PRAGMA user_version`, PostgreSQL in `schema_version`.

pub struct Migration {
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// Migration N (1-based) brings the schema from version N-1 to N.
pub const MIGRATIONS: &[Migration] = &[
    // 1: the seed's five tables, with the reason code and event time kept on decisions.
    // An event has at most one traits row, decision, send request or suppression: those
    // rows take the event's id as their own, which also makes "one decision per event" a key.
    // A user's decisions (the audit) are found through ix_events_user_type: same ids.
    Migration {
        sqlite: "
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
        postgres: "
        CREATE TABLE events (
            id BIGSERIAL PRIMARY KEY,
            user_id TEXT NOT NULL,
            event_type TEXT NOT NULL,
            event_timestamp TEXT NOT NULL,
            properties TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL
        );
        CREATE INDEX ix_events_user_type ON events (user_id, event_type, id);
        CREATE TABLE user_traits (
            id BIGINT PRIMARY KEY,
            event_id BIGINT NOT NULL REFERENCES events (id),
            email TEXT,
            country TEXT,
            marketing_opt_in BOOLEAN,
            risk_segment TEXT,
            extra TEXT NOT NULL DEFAULT '{}'
        );
        CREATE TABLE decisions (
            id BIGINT PRIMARY KEY,
            user_id TEXT NOT NULL,
            event_id BIGINT NOT NULL REFERENCES events (id),
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
        CREATE TABLE send_requests (
            id BIGINT PRIMARY KEY,
            user_id TEXT NOT NULL,
            event_id BIGINT NOT NULL REFERENCES events (id),
            event_timestamp TEXT NOT NULL,
            template_name TEXT NOT NULL,
            channel TEXT NOT NULL,
            reason TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX ix_send_requests_key ON send_requests (user_id, template_name, event_timestamp);
        CREATE TABLE suppressions (
            id BIGINT PRIMARY KEY,
            user_id TEXT NOT NULL,
            event_id BIGINT NOT NULL REFERENCES events (id),
            template_name TEXT NOT NULL,
            suppression_reason TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        ",
    },
    // 2: which send requests have their messages.txt line, and which messages.txt (the
    // outbox) it belongs in, so a crash between the commit and the write is repaired at start
    // by the instance that owns the line (written exactly once).
    Migration {
        sqlite: "
        ALTER TABLE send_requests ADD COLUMN delivered INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE send_requests ADD COLUMN outbox TEXT NOT NULL DEFAULT '';
        CREATE INDEX ix_send_requests_undelivered ON send_requests (id) WHERE delivered = 0;
        ",
        postgres: "
        ALTER TABLE send_requests ADD COLUMN delivered BOOLEAN NOT NULL DEFAULT FALSE;
        ALTER TABLE send_requests ADD COLUMN outbox TEXT NOT NULL DEFAULT '';
        CREATE INDEX ix_send_requests_undelivered ON send_requests (id) WHERE NOT delivered;
        ",
    },
    // 3: delivery times as integers (microseconds since 1970, `store::micros`), so that
    // suppression windows compare every instant up to 9999-12-31T23:59:59Z correctly; the
    // text column stays for reading. Existing rows are filled in by `backfill_event_us`.
    Migration {
        sqlite: "
        ALTER TABLE send_requests ADD COLUMN event_us INTEGER;
        CREATE INDEX ix_send_requests_window ON send_requests (user_id, template_name, event_us);
        DROP INDEX ix_send_requests_key;
        ",
        postgres: "
        ALTER TABLE send_requests ADD COLUMN event_us BIGINT;
        CREATE INDEX ix_send_requests_window ON send_requests (user_id, template_name, event_us);
        DROP INDEX ix_send_requests_key;
        ",
    },
    // 4: user time (SPEC §7.2, §7.5). Each event keeps its own valid zone, so a later event
    // of the user without one finds the latest in one indexed lookup; scheduled sends keep
    // their `deliver_at`, unclaimed until a scheduler claims them for its outbox when due.
    // Existing events get their zone from their traits in `backfill_timezone`.
    Migration {
        sqlite: "
        ALTER TABLE events ADD COLUMN timezone TEXT;
        CREATE INDEX ix_events_user_zone ON events (user_id, id) WHERE timezone IS NOT NULL;
        ALTER TABLE decisions ADD COLUMN deliver_at TEXT;
        ALTER TABLE send_requests ADD COLUMN deliver_at TEXT;
        ALTER TABLE send_requests ADD COLUMN deliver_us INTEGER;
        ALTER TABLE send_requests ADD COLUMN claimed INTEGER NOT NULL DEFAULT 1;
        CREATE INDEX ix_send_requests_due ON send_requests (deliver_us, id) WHERE claimed = 0;
        ",
        postgres: "
        ALTER TABLE events ADD COLUMN timezone TEXT;
        CREATE INDEX ix_events_user_zone ON events (user_id, id) WHERE timezone IS NOT NULL;
        ALTER TABLE decisions ADD COLUMN deliver_at TEXT;
        ALTER TABLE send_requests ADD COLUMN deliver_at TEXT;
        ALTER TABLE send_requests ADD COLUMN deliver_us BIGINT;
        ALTER TABLE send_requests ADD COLUMN claimed BOOLEAN NOT NULL DEFAULT TRUE;
        CREATE INDEX ix_send_requests_due ON send_requests (deliver_us, id) WHERE NOT claimed;
        ",
    },
    // 5: frequency caps (SPEC §7.3 row 4) count a user's deliveries of some categories and
    // channels in a window: each send request keeps its rule's category (alerts have none),
    // and a user's deliveries are found by time in one range scan. Older rows have no category
    // and count for no cap.
    Migration {
        sqlite: "
        ALTER TABLE send_requests ADD COLUMN category TEXT;
        CREATE INDEX ix_send_requests_user_time ON send_requests (user_id, event_us);
        ",
        postgres: "
        ALTER TABLE send_requests ADD COLUMN category TEXT;
        CREATE INDEX ix_send_requests_user_time ON send_requests (user_id, event_us);
        ",
    },
    // 6: template texts are Liquid (SPEC §7.4): a decision keeps the text it delivered, and
    // a send request the text to write, so a scheduled send delivered later and a line
    // written again after a crash carry the text rendered when the event was decided. Older
    // rows have none: they are written with the template's text as the rules have it.
    Migration {
        sqlite: "
        ALTER TABLE decisions ADD COLUMN message_text TEXT;
        ALTER TABLE send_requests ADD COLUMN message_text TEXT;
        ",
        postgres: "
        ALTER TABLE decisions ADD COLUMN message_text TEXT;
        ALTER TABLE send_requests ADD COLUMN message_text TEXT;
        ",
    },
    // 7: idempotency keys (SPEC §7.6), kept forever with their events. The unique index is
    // what makes a key's event exist once, across every connection and instance (NULLs, the
    // events without a key, never collide); the fingerprint (`Event::fingerprint`) tells a
    // replay of the same event from a conflicting reuse of its key.
    Migration {
        sqlite: "
        ALTER TABLE events ADD COLUMN idempotency_key TEXT;
        ALTER TABLE events ADD COLUMN idempotency_fp TEXT;
        CREATE UNIQUE INDEX ux_events_idempotency_key ON events (idempotency_key);
        ",
        postgres: "
        ALTER TABLE events ADD COLUMN idempotency_key TEXT;
        ALTER TABLE events ADD COLUMN idempotency_fp TEXT;
        CREATE UNIQUE INDEX ux_events_idempotency_key ON events (idempotency_key);
        ",
    },
    // 8: the idempotency key index holds only events that have a key (issue #15, `perf`): it
    // took an entry, NULL, for every event without one (most of them), an index insert per
    // event for nothing.
    Migration {
        sqlite: "
        DROP INDEX ux_events_idempotency_key;
        CREATE UNIQUE INDEX ux_events_idempotency_key ON events (idempotency_key)
            WHERE idempotency_key IS NOT NULL;
        ",
        postgres: "
        DROP INDEX ux_events_idempotency_key;
        CREATE UNIQUE INDEX ux_events_idempotency_key ON events (idempotency_key)
            WHERE idempotency_key IS NOT NULL;
        ",
    },
];

/// The version whose migration adds `events.timezone`, which existing events get from their
/// traits (in Rust: only the tz database knows which names are zones).
pub const TIMEZONE_VERSION: usize = 4;

/// The valid zone in a stored traits `extra` JSON, if it names one.
pub fn zone_in_extra(extra: &str) -> Option<&'static str> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(extra).ok()?;
    map.get("timezone")
        .and_then(serde_json::Value::as_str)
        .and_then(crate::engine::Zone::parse)
        .map(crate::engine::Zone::name)
}

/// The version whose migration adds `send_requests.event_us`, which existing rows get from
/// their text timestamps (in Rust: SQL cannot parse every stored form).
pub const EVENT_US_VERSION: usize = 3;
