//! `guildhall audit`: the audit log, filtered, and `--follow` to watch it.

use super::Ctx;
use super::args::AuditArgs;
use super::error::Result;
use super::output::{Output, s, table, when};
use serde_json::Value;
use std::collections::HashSet;
use std::time::Duration;

/// How often `--follow` asks for new events.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);
/// How many of the latest events `--follow` shows before waiting for new ones.
const FOLLOW_BACKLOG: usize = 10;

/// The columns of the log.
fn row(e: &Value) -> Vec<String> {
    let actor = match s(e, "/actor_kind").as_str() {
        "user" => s(e, "/actor_email"),
        "operator" => format!("operator {}", s(e, "/actor_name")),
        kind => kind.to_owned(),
    };
    let target = match s(e, "/target/name").as_str() {
        "" => format!("{} {}", s(e, "/target/type"), s(e, "/target/id")),
        name => format!("{} {name}", s(e, "/target/type")),
    };
    vec![when(e, "/at"), s(e, "/action"), actor, target, s(e, "/ip")]
}

const HEADER: [&str; 5] = ["AT", "ACTION", "ACTOR", "TARGET", "FROM"];

/// Runs `audit`.
pub async fn run(ctx: &Ctx, a: AuditArgs, out: Output) -> Result<()> {
    let api = ctx.api()?;
    let org = ctx.org()?;
    let mut filters: Vec<(&str, String)> = Vec::new();
    for (k, v) in [
        ("actor", &a.actor),
        ("action", &a.action),
        ("since", &a.since),
        ("until", &a.until),
    ] {
        if let Some(v) = v {
            filters.push((k, v.clone()));
        }
    }
    let q: Vec<(&str, &str)> = filters.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let path = ["orgs", org.as_str(), "audit"];
    if !a.follow {
        let events = api.list(&path, &q).await?;
        if out.json() || out.quiet {
            out.list(&events, &[], &|e| s(e, "/id"));
        } else {
            print!(
                "{}",
                table(HEADER.to_vec(), events.iter().map(row).collect())
            );
        }
        return Ok(());
    }

    // Follow: the latest events first (oldest of them on top), then each new one as it comes.
    let first = api
        .call(
            reqwest::Method::GET,
            &path,
            &[q.as_slice(), &[("limit", "10")]].concat(),
            None,
        )
        .await?;
    let mut backlog: Vec<Value> = first
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    backlog.truncate(FOLLOW_BACKLOG);
    backlog.reverse();
    let mut seen: HashSet<String> = HashSet::new();
    let mut newest = a.since.clone();
    let print = |events: &[Value], seen: &mut HashSet<String>, newest: &mut Option<String>| {
        for e in events {
            let id = s(e, "/id");
            if !seen.insert(id.clone()) {
                continue;
            }
            *newest = Some(s(e, "/at"));
            if out.quiet {
                println!("{id}");
            } else if out.json() {
                println!("{e}");
            } else {
                println!("{}", row(e).join("  "));
            }
        }
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
    };
    print(&backlog, &mut seen, &mut newest);
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            () = tokio::time::sleep(FOLLOW_EVERY) => {}
        }
        let mut q: Vec<(&str, &str)> = filters
            .iter()
            .filter(|(k, _)| *k != "since")
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        let since = newest.clone();
        if let Some(since) = &since {
            // `since` is inclusive: events at that instant come again and are skipped by id.
            q.push(("since", since));
        }
        let mut events = api.list(&path, &q).await?;
        events.reverse();
        print(&events, &mut seen, &mut newest);
    }
}
