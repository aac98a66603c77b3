//! The runner: how a generated sequence of operations is played on a real server (SQLite or
//! PostgreSQL) and on the model, and compared, step by step.
//!
//! [`run`] owns the harness: one runtime, one server and one set of signed-up users for every
//! case of a test (signing users up is the slow part), `PROPTEST_CASES`, shrinking, and a
//! tally of what the cases exercised. [`play`] owns the loop of one case: each operation is
//! made concrete against the model's state, decided by the model, sent to the server, and the
//! server must answer as the model decided (status, and `code` when refused) before the suite
//! applies the change and checks its own properties ([`Steps::settle`]).

use super::refusal::Refusal;
use crate::common::{Resp, Store, TestApp, TestUser, spawn_app};
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;

/// The server and its signed-in users, shared by every case of one test; each case works in
/// its own new organization, so cases share no state that matters.
pub struct Fixture {
    pub app: TestApp,
    pub users: Vec<TestUser>,
    /// A user id nobody has.
    pub ghost_id: String,
    /// An email nobody registered.
    pub ghost_email: String,
}

impl Fixture {
    /// A server on `store` with `users` signed-up users named `{prefix}{i}`.
    pub async fn new(store: Store, prefix: &str, users: usize) -> Fixture {
        let app = spawn_app(store).await;
        let mut signed_up = Vec::new();
        for i in 0..users {
            signed_up.push(app.user(&format!("{prefix}{i}")).await);
        }
        Fixture {
            app,
            users: signed_up,
            ghost_id: uuid::Uuid::new_v4().to_string(),
            ghost_email: format!("{}@example.com", crate::common::unique("ghost")),
        }
    }

    /// User `user`'s id; past the last user, the id nobody has.
    pub fn id(&self, user: usize) -> &str {
        self.users.get(user).map_or(&self.ghost_id, |u| &u.id)
    }

    /// User `user`'s email; past the last user, the email nobody registered.
    pub fn email(&self, user: usize) -> &str {
        self.users.get(user).map_or(&self.ghost_email, |u| &u.email)
    }
}

/// How many cases a test runs and how long it may shrink a failure.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Cases per store, unless `PROPTEST_CASES` says otherwise.
    pub cases: u32,
    pub max_shrink_iters: u32,
    /// Milliseconds; 0 for no limit. Each shrink step replays a whole case over HTTP.
    pub max_shrink_time: u32,
}

/// A boxed future borrowing the fixture and the tally, as [`run`]'s case function returns it.
pub type CaseFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;

/// Runs the property on `store`: builds the fixture once on one runtime, then runs every case
/// of `cases` through `case`, failing the test with the (shrunk) case that failed.
pub fn run<F, S>(
    store: Store,
    settings: Settings,
    fixture: impl Future<Output = F>,
    cases: S,
    case: impl for<'a> Fn(&'a F, S::Value, &'a Tally) -> CaseFuture<'a>,
) where
    S: Strategy,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let fx = rt.block_on(fixture);
    let count = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(settings.cases);
    let config = Config {
        cases: count,
        max_shrink_iters: settings.max_shrink_iters,
        max_shrink_time: settings.max_shrink_time,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let tally = Tally::default();
    let started = std::time::Instant::now();
    let result = runner.run(&cases, |value| {
        rt.block_on(case(&fx, value, &tally))
            .map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Shown with `--nocapture`: what the cases exercised.
    eprintln!("{store:?}: {count} cases in {:.1?}", started.elapsed());
    for ((kind, outcome), n) in tally.0.lock().expect("tally").iter() {
        eprintln!("  {kind:<21} {outcome:<28} {n}");
    }
}

/// How often each kind of request got each answer, across all cases.
#[derive(Default)]
pub struct Tally(std::sync::Mutex<BTreeMap<(&'static str, String), u32>>);

impl Tally {
    pub fn count(&self, kind: &'static str, outcome: String) {
        *self
            .0
            .lock()
            .expect("tally")
            .entry((kind, outcome))
            .or_default() += 1;
    }
}

/// One case of a suite, as [`play`] drives it: the suite's model and what it knows of its
/// organization on the server.
pub trait Steps {
    /// A random operation, as generated.
    type Op;
    /// An operation made concrete against the model's state.
    type Req: Debug;
    /// What the model says an accepted request does.
    type Accepted;

    /// Interprets `op` against the model's state now; `None` when it means nothing yet (it is
    /// skipped).
    fn concretize(&self, op: &Self::Op) -> Option<Self::Req>;
    /// The server's decision on `req`, as SPEC and the rules say it must be.
    fn decide(&self, req: &Self::Req) -> Result<Self::Accepted, Refusal>;
    /// The status an accepted request answers.
    fn status(accepted: &Self::Accepted) -> u16;
    /// The request's kind, for the tally.
    fn kind(req: &Self::Req) -> &'static str;
    /// An accepted request's outcome, for the tally.
    fn outcome(accepted: &Self::Accepted) -> String {
        Self::status(accepted).to_string()
    }
    /// Sends `req` to the server as its actor.
    async fn send(&self, req: &Self::Req) -> Resp;
    /// After the server answered as the model decided: applies an accepted change to the model
    /// and checks the suite's properties.
    async fn settle(
        &mut self,
        req: &Self::Req,
        decision: Result<Self::Accepted, Refusal>,
        resp: &Resp,
    ) -> Result<(), String>;
}

/// Plays `ops` on both sides, in order; the first disagreement fails the case, naming the step
/// and the request.
pub async fn play<S: Steps>(s: &mut S, ops: &[S::Op], tally: &Tally) -> Result<(), String> {
    for (step, op) in ops.iter().enumerate() {
        let Some(req) = s.concretize(op) else {
            continue;
        };
        let at = |e: String| format!("step {step}: {req:?}\n  {e}");
        let decision = s.decide(&req);
        let outcome = match &decision {
            Ok(a) => S::outcome(a),
            Err(r) => format!("{} {}", r.status, r.code),
        };
        tally.count(S::kind(&req), outcome);
        let resp = s.send(&req).await;
        // The decision first: if the server let the owner go, nothing after could be read.
        let wanted = match &decision {
            Ok(a) => (S::status(a), ""),
            Err(r) => (r.status, r.code),
        };
        let code = if decision.is_err() { resp.code() } else { "" };
        if wanted != (resp.status.as_u16(), code) {
            return Err(at(format!(
                "the model answers {} {}, the server answered {} {}",
                wanted.0, wanted.1, resp.status, resp.body
            )));
        }
        s.settle(&req, decision, &resp).await.map_err(at)?;
    }
    Ok(())
}
