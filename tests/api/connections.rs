//! The listener against hostile clients, on the real binary over raw TCP: silent, slow and idle
//! connections are cut off after the header read timeout, an oversized request head gets 431,
//! one address cannot hold more than its share of connections, and SIGTERM exits within the
//! shutdown deadline even with a request half sent.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// A `guildhall serve` on a free port with `args`; killed when dropped.
struct Server {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(args: &[&str]) -> Server {
    let dir = tempfile::tempdir().expect("dir");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        l.local_addr().expect("addr").port()
    };
    let child = Command::new(env!("CARGO_BIN_EXE_guildhall"))
        .arg("serve")
        .args(args)
        .env("GUILDHALL_LISTEN", format!("127.0.0.1:{port}"))
        .env("GUILDHALL_DATA_DIR", dir.path())
        .env_remove("GUILDHALL_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("guildhall starts");
    let server = Server {
        child,
        addr: format!("127.0.0.1:{port}"),
        _dir: dir,
    };
    for _ in 0..200 {
        if get(&server.addr, "/readyz")
            .await
            .is_some_and(|r| r.starts_with("HTTP/1.1 200"))
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

/// One request on its own connection (closed after), answering the whole response.
async fn get(addr: &str, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).await.ok()?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.ok()?;
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
        .await
        .ok()?
        .ok()?;
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// How long until the server closes `s` (reading and dropping anything it sends), or `None`
/// if it is still open after `limit`.
async fn closed_after(s: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(limit.saturating_sub(started.elapsed()), s.read(&mut buf)).await
        {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_slow_and_idle_clients_are_cut_off_and_an_oversized_head_gets_431() {
    let server = start(&["--header-read-timeout", "1s"]).await;
    let limit = Duration::from_secs(5);

    // Connects and says nothing.
    let mut silent = TcpStream::connect(&server.addr).await.expect("connect");
    let t = closed_after(&mut silent, limit).await;
    assert!(
        t.is_some_and(|t| t >= Duration::from_millis(800)),
        "a silent connection is closed after about a second: {t:?}"
    );

    // Sends its request head one byte every 200 ms: never finishes in time.
    let mut slow = TcpStream::connect(&server.addr).await.expect("connect");
    let head =
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let started = Instant::now();
    let mut cut = None;
    for b in head {
        if slow.write_all(&[*b]).await.is_err() {
            cut = Some(started.elapsed());
            break;
        }
        let mut probe = [0u8; 1024];
        if let Ok(Ok(0)) =
            tokio::time::timeout(Duration::from_millis(200), slow.read(&mut probe)).await
        {
            cut = Some(started.elapsed());
            break;
        }
    }
    assert!(
        cut.is_some_and(|t| t < Duration::from_secs(3)),
        "a client dribbling its head is cut off within the timeout: {cut:?}"
    );

    // Asks once, keeps the connection and goes quiet.
    let mut idle = TcpStream::connect(&server.addr).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("request");
    let mut first = [0u8; 1024];
    let n = idle.read(&mut first).await.expect("answer");
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    let t = closed_after(&mut idle, limit).await;
    assert!(
        t.is_some_and(|t| t < Duration::from_secs(3)),
        "an idle kept-alive connection is closed after the timeout: {t:?}"
    );

    // A 40 KiB header is refused with 431; a 20 KiB one is fine.
    for (size, status) in [(40 * 1024, "431"), (20 * 1024, "200")] {
        let mut s = TcpStream::connect(&server.addr).await.expect("connect");
        let req = format!(
            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: {}\r\n\r\n",
            "a".repeat(size)
        );
        let _ = s.write_all(req.as_bytes()).await;
        let mut out = Vec::new();
        let _ = tokio::time::timeout(limit, s.read_to_end(&mut out)).await;
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.starts_with(&format!("HTTP/1.1 {status}")),
            "a {size}-byte header: {}",
            text.lines().next().unwrap_or("(no answer)")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_holds_at_most_its_share_of_connections() {
    let server = start(&[
        "--max-connections-per-address",
        "4",
        "--header-read-timeout",
        "30s",
    ])
    .await;
    // The readiness probe's connection must be gone before counting.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(&server.addr).await.expect("connect"));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fifth = TcpStream::connect(&server.addr).await.expect("tcp connect");
    let t = closed_after(&mut fifth, Duration::from_secs(2)).await;
    assert!(
        t.is_some_and(|t| t < Duration::from_secs(1)),
        "the fifth connection from one address is closed at once: {t:?}"
    );
    // The four held ones still work.
    let first = &mut held[0];
    first
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("request");
    let mut buf = [0u8; 1024];
    let n = first.read(&mut buf).await.expect("answer");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Closing one frees its place.
    held.pop();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let again = get(&server.addr, "/healthz").await;
    assert!(
        again
            .as_deref()
            .is_some_and(|r| r.starts_with("HTTP/1.1 200")),
        "a place freed is given again: {again:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_a_half_sent_request_exits_within_the_deadline() {
    let mut server = start(&["--shutdown-deadline", "1s", "--header-read-timeout", "60s"]).await;
    let mut half = TcpStream::connect(&server.addr).await.expect("connect");
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("half a head");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pid = server.child.id().to_string();
    let started = Instant::now();
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(sent.success());
    let mut exited = None;
    while started.elapsed() < Duration::from_secs(10) {
        if let Some(status) = server.child.try_wait().expect("wait") {
            exited = Some((started.elapsed(), status));
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (took, status) = exited.expect("serve exited within 10 s of SIGTERM");
    assert!(
        took < Duration::from_secs(3),
        "serve exits within its 1 s deadline (took {took:?})"
    );
    assert!(status.success(), "a shutdown is a clean exit: {status}");
    let t = closed_after(&mut half, Duration::from_secs(1)).await;
    assert!(t.is_some(), "the half-sent connection was cut");
}
