//! The statements the PostgreSQL store prepares once per connection.

use ::postgres::{Client, Statement};

pub(super) struct Statements {
    pub(super) lock: Statement,
    pub(super) lock_sorted: Statement,
    pub(super) insert_event: Statement,
    pub(super) keyed: Statement,
    pub(super) stored_decision: Statement,
    pub(super) insert_traits: Statement,
    pub(super) load_event: Statement,
    pub(super) latest_zone: Statement,
    pub(super) latest_prior: Statement,
    pub(super) find_delivery: Statement,
    pub(super) cap_deliveries: Statement,
    pub(super) insert_decision: Statement,
    pub(super) insert_send: Statement,
    pub(super) insert_suppression: Statement,
}

impl Statements {
    pub(super) fn prepare(c: &mut Client) -> Result<Statements, ::postgres::Error> {
        Ok(Statements {
            lock: c.prepare("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")?,
            // Every key in ascending order (the fence `OFFSET 0` keeps the sort below the
            // locking): groups that share users take their locks in the same order.
            lock_sorted: c.prepare(
                "SELECT pg_advisory_xact_lock(h) FROM (
                    SELECT DISTINCT hashtextextended(u, 0) AS h FROM unnest($1::TEXT[]) AS u
                    ORDER BY h OFFSET 0) AS s",
            )?,
            insert_event: c.prepare(
                "INSERT INTO events (user_id, event_type, event_timestamp, properties, created_at,
                    timezone, idempotency_key, idempotency_fp)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id",
            )?,
            keyed: c.prepare("SELECT id, idempotency_fp FROM events WHERE idempotency_key = $1")?,
            stored_decision: c.prepare(&format!(
                "SELECT {} FROM {} WHERE d.id = $1",
                crate::store::AuditRow::COLUMNS,
                crate::store::AuditRow::FROM
            ))?,
            insert_traits: c.prepare(
                "INSERT INTO user_traits
                   (id, event_id, email, country, marketing_opt_in, risk_segment, extra)
                 VALUES ($1, $1, $2, $3, $4, $5, $6)",
            )?,
            load_event: c.prepare(
                "SELECT e.user_id, e.event_type, e.event_timestamp, e.properties,
                        t.id, t.email, t.country, t.marketing_opt_in, t.risk_segment, t.extra,
                        e.idempotency_key
                 FROM events e LEFT JOIN user_traits t ON t.id = e.id WHERE e.id = $1",
            )?,
            latest_zone: c.prepare(
                "SELECT id, timezone FROM events
                 WHERE user_id = $1 AND id < $2 AND timezone IS NOT NULL
                 ORDER BY id DESC LIMIT 1",
            )?,
            latest_prior: c.prepare(
                "SELECT id, event_timestamp FROM events
                 WHERE user_id = $1 AND event_type = $2 AND id < $3
                 ORDER BY id DESC LIMIT 1",
            )?,
            find_delivery: c.prepare(
                "SELECT event_id, event_timestamp FROM send_requests
                 WHERE user_id = $1 AND template_name = $2
                   AND event_us >= $3 AND event_us < $4 AND event_id < $5
                 ORDER BY id LIMIT 1",
            )?,
            cap_deliveries: c.prepare(
                "SELECT event_id, event_timestamp FROM send_requests
                 WHERE user_id = $1 AND event_us >= $2 AND event_us < $3 AND event_id < $4
                   AND category IS NOT NULL
                   AND ($5::TEXT IS NULL OR strpos($5, ',' || category || ',') > 0)
                   AND strpos($6, ',' || channel || ',') > 0
                 ORDER BY event_us, event_id LIMIT $7",
            )?,
            insert_decision: c.prepare(
                "INSERT INTO decisions (id, user_id, event_id, event_type, event_timestamp,
                    matched_rule, action_type, outcome, reason, reason_code, template_name,
                    channel, created_at, deliver_at, message_text)
                 VALUES ($2, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )?,
            insert_send: c.prepare(
                "INSERT INTO send_requests (id, user_id, event_id, event_timestamp,
                    template_name, channel, reason, created_at, outbox, event_us, deliver_at,
                    deliver_us, claimed, category, message_text)
                 VALUES ($2, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11::BIGINT IS NULL,
                    $12, $13)",
            )?,
            insert_suppression: c.prepare(
                "INSERT INTO suppressions (id, user_id, event_id, template_name,
                    suppression_reason, created_at)
                 VALUES ($2, $1, $2, $3, $4, $5)",
            )?,
        })
    }
}
