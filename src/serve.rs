//! `workbench serve`: the seed's HTTP API on the same pipeline as `run` and the TUI (axum +
//! tokio; SQLite behind a single writer thread that commits in groups). The writers also
//! deliver scheduled sends when they fall due (see `writer`), on the service's [`Clock`].

pub mod api;
pub mod clock;
pub mod config;
mod guard;
mod http;
mod rejection;
mod schema;
pub mod writer;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

pub use clock::Clock;
pub use config::{Config, Database, Flags};
use writer::{Mode, SharedMessages, Writer, WriterHandle};

use crate::pipeline::{Pipeline, PipelineError};
use crate::provider::{self, MessagesFile};
use crate::rules::{RuleSet, RulesError};
use crate::store::{PgStore, SqliteStore, StoreError};

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error(transparent)]
    Clock(#[from] clock::ClockError),
    #[error("database `{path}`: {source}")]
    Database { path: String, source: StoreError },
    #[error("messages file `{path}`: {source}")]
    Messages {
        path: String,
        source: std::io::Error,
    },
    #[error("recovering undelivered messages: {0}")]
    Recover(#[from] PipelineError),
}

/// A started service: rules loaded, database migrated, undelivered messages recovered.
pub struct Service {
    pub writer: Writer,
    pub recovered: usize,
}

impl Service {
    pub fn start(config: &Config) -> Result<Service, StartError> {
        let rules = Arc::new(RuleSet::load(&config.rules_path)?);
        let clock = Clock::from_file(config.clock_file.as_deref())?;
        let outbox = outbox(&config.messages_path);
        let messages_err = |source| StartError::Messages {
            path: config.messages_path.display().to_string(),
            source,
        };
        let written = provider::repair(&config.messages_path).map_err(messages_err)?;
        let messages = SharedMessages::new(
            MessagesFile::append(&config.messages_path, true).map_err(messages_err)?,
        );
        match &config.database {
            Database::Sqlite(path) => {
                let db_err = |source| StartError::Database {
                    path: path.display().to_string(),
                    source,
                };
                // Commits happen per group of queued events (`Pipeline::finish`).
                let store = SqliteStore::open(path)
                    .map_err(db_err)?
                    .batched(usize::MAX)
                    .with_outbox(&outbox);
                let mut pipeline = Pipeline::new(store, messages);
                let recovered = pipeline.recover(&rules, |id| written.contains(&id))?;
                let mode = Mode {
                    group: 512,
                    retries: 0,
                    lock_ahead: false,
                };
                Ok(Service {
                    writer: Writer::start(vec![pipeline], &rules, mode, &clock),
                    recovered,
                })
            }
            Database::Postgres(url) => {
                let db_err = |source| StartError::Database {
                    path: redact(url),
                    source,
                };
                let mut pipelines = Vec::with_capacity(config.pool_size);
                for _ in 0..config.pool_size {
                    let store = PgStore::connect(url)
                        .map_err(db_err)?
                        .batched(config.group_size)
                        .with_outbox(&outbox);
                    pipelines.push(Pipeline::new(store, messages.clone()));
                }
                let recovered = pipelines[0].recover(&rules, |id| written.contains(&id))?;
                let mode = Mode {
                    // The events queued when a writer starts a group, their users locked up
                    // front in one sorted statement: one commit (one WAL flush) per group.
                    group: config.group_size,
                    retries: 3,
                    lock_ahead: true,
                };
                Ok(Service {
                    writer: Writer::start(pipelines, &rules, mode, &clock),
                    recovered,
                })
            }
        }
    }
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
            None => url.to_string(),
        },
        _ => url.to_string(),
    }
}

pub fn router(writer: WriterHandle) -> Router {
    let api = Router::new()
        .route("/", get(guard::index))
        .route("/events", post(api::post_event))
        .route("/events/", post(api::post_event))
        .route("/audit/{user_id}", get(api::audit))
        .route("/health", get(api::health))
        .with_state(writer)
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    let docs = Router::new()
        .merge(SwaggerUi::new("/docs").url("/openapi.json", api::ApiDoc::openapi()))
        .layer(middleware::from_fn(guard::json_errors));
    api.merge(docs)
        .fallback(guard::not_found)
        .method_not_allowed_fallback(guard::method_not_allowed)
        .layer(tower_layer::layer_fn(guard::limits))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}

/// Serve until `shutdown` resolves, then finish in-flight requests and every queued event.
pub async fn run(
    listener: TcpListener,
    service: Service,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(service.writer.handle.clone());
    let result = http::serve(listener, app, shutdown).await;
    // The router (and its handles) are gone: the writer drains its queue and stops.
    tokio::task::spawn_blocking(move || service.writer.join())
        .await
        .ok();
    result
}

/// The name under which a messages file owns its undelivered send requests.
pub fn outbox(messages: &std::path::Path) -> String {
    std::path::absolute(messages)
        .unwrap_or_else(|_| messages.to_path_buf())
        .display()
        .to_string()
}

/// SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Past a file-size limit (`RLIMIT_FSIZE`), a write fails with `EFBIG`, as one on a full
/// disk fails with `ENOSPC`, and the service handles it the same way (see `pipeline`) — but
/// the kernel also sends `SIGXFSZ`, whose default action kills the process. Catching it
/// (and doing nothing) keeps the service up. Call inside the runtime.
pub fn survive_file_size_limits() {
    #[cfg(target_os = "linux")]
    {
        const SIGXFSZ: i32 = 25;
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::from_raw(SIGXFSZ)) {
            Ok(mut s) => {
                tokio::spawn(async move {
                    while s.recv().await.is_some() {
                        tracing::warn!("a write went past the file-size limit");
                    }
                });
            }
            Err(e) => tracing::warn!(error = %e, "cannot catch SIGXFSZ"),
        }
    }
}

pub fn address(config: &Config) -> SocketAddr {
    SocketAddr::new(config.host, config.port)
}
