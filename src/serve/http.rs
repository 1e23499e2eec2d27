//! The HTTP/1 server loop: hyper with bounded request heads and a header read timeout, so a
//! slow or hostile client holds a connection for a bounded time, and graceful shutdown.

use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// A request head (request line and headers) must arrive within this time, or the connection
/// is closed.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// A request body must arrive within this time, or the request gets 408.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for in-flight requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// Heads up to this size reach the service, which answers oversized ones (limits in
/// `guard`) with a JSON body; hyper closes connections whose head is larger still, with a
/// bodiless 431.
const MAX_HEAD_BYTES: usize = 256 << 10;
/// As [`MAX_HEAD_BYTES`], for the number of headers.
const MAX_HEADERS: usize = 256;

/// Accept connections until `shutdown` resolves, then let in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_header_size(MAX_HEAD_BYTES)
        .max_buf_size(MAX_HEAD_BYTES + (64 << 10))
        .max_headers(MAX_HEADERS);
    let graceful = GracefulShutdown::new();
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: wait, never spin or stop.
                        tracing::warn!(error = %e, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(app.clone());
                let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                connections.spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown: some connections were still open after 30 s; closing them");
        // A client that never reads its answer must not keep the service (and its writer,
        // which waits for every request handle to go) from stopping.
        connections.abort_all();
    }
    while connections.join_next().await.is_some() {}
    Ok(())
}
