//! The listener's connection hygiene: how long a client may take to send a request's head (and
//! may keep an idle connection open), how big that head may be, how many connections one address
//! may hold, and how long a shutdown waits for the requests in flight. All of it is hyper's own
//! server machinery (hyper's HTTP/1 builder with hyper-util's Tokio timer and graceful shutdown), so no
//! timer here is hand-made.

use axum::Router;
use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tower::Service as _;

/// The limits of one listener.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How long a client has to send a whole request head, from the moment the server waits
    /// for one: a new connection, or a kept-alive one after its last answer (so it is also the
    /// idle keep-alive timeout).
    pub header_read_timeout: Duration,
    /// The largest request head accepted, in bytes; above it the answer is 431.
    pub max_header_bytes: usize,
    /// How many connections one client address may hold open at once; more are closed at once.
    pub max_connections_per_address: usize,
    /// After a shutdown signal, how long requests in flight may take before the remaining
    /// connections are cut and the process exits.
    pub shutdown_deadline: Duration,
}

/// The smallest head limit taken: below it, ordinary browsers' requests would be refused.
const MIN_HEADER_BYTES: usize = 8192;

/// Open connections per client address.
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

impl PerAddress {
    /// Counts one more connection from `ip`, unless it already holds `max`.
    fn admit(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<Slot> {
        let mut open = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(ip).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot {
            table: Arc::clone(self),
            ip,
        })
    }
}

/// One admitted connection; dropping it frees its place.
struct Slot {
    table: Arc<PerAddress>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .table
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Serves `app` on `listener` until `signal` resolves, then stops accepting, lets the
/// connections finish what they are doing for at most `limits.shutdown_deadline`, and returns
/// (cutting whatever is left).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    signal: impl Future<Output = ()>,
) {
    let mut make: IntoMakeServiceWithConnectInfo<Router, SocketAddr> =
        app.into_make_service_with_connect_info::<SocketAddr>();
    // HTTP/1 only: without TLS there is no HTTP/2 to negotiate, and hyper-util's auto builder,
    // sniffing for an HTTP/2 preface, would wait on a silent client with no timeout at all (and
    // offers no header size limit).
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header_bytes.max(MIN_HEADER_BYTES))
        .keep_alive(true);
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    let per_address = Arc::new(PerAddress::default());
    tokio::pin!(signal);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut signal => break,
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: the listener itself is fine, so
                    // wait a little rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(slot) = per_address.admit(peer.ip(), limits.max_connections_per_address) else {
            tracing::debug!(peer = %peer.ip(), "connection refused: too many open from this address");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok(service) = make.call(peer).await;
        let service = TowerToHyperService::new(service);
        let builder = Arc::clone(&builder);
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    let open = graceful.count();
    tracing::info!(
        open,
        deadline_s = limits.shutdown_deadline.as_secs_f64(),
        "no longer accepting; waiting for the requests in flight"
    );
    if tokio::time::timeout(limits.shutdown_deadline, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown deadline reached: cutting the connections still open and exiting");
    }
}
