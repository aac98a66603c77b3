//! The authorization index kept current: loaded from the store at start, brought up to date
//! after every commit that changes grants, and following the other processes' changes (by
//! PostgreSQL notification, with a periodic poll as the safety net). The index itself is pure
//! (`authz::index`); this is the IO around it.

use crate::authz::index::{Index, MemberGrants, OrgGrants};
use crate::domain::ids::OrgId;
use crate::store::{Store, StoreResult};
use std::sync::Arc;
use std::time::Duration;

/// The index of this process, with the store it follows.
pub struct LiveIndex {
    index: Index,
    store: Arc<dyn Store>,
    catching_up: tokio::sync::Mutex<()>,
}

impl std::ops::Deref for LiveIndex {
    type Target = Index;

    fn deref(&self) -> &Index {
        &self.index
    }
}

impl LiveIndex {
    /// Loads every organization's grants from `store`.
    pub async fn load(store: Arc<dyn Store>) -> StoreResult<Arc<LiveIndex>> {
        // Read and built on one blocking thread: see `Store::load_index`.
        crate::store::blocking(move || {
            let started = std::time::Instant::now();
            let (revision, snapshots) = store.load_index()?;
            let read = started.elapsed();
            let orgs = snapshots.len();
            // Owned: each snapshot is dropped as soon as its grants are built.
            let index = Index::new(revision, snapshots);
            tracing::info!(
                organizations = orgs,
                revision,
                read_ms = read.as_millis() as u64,
                built_ms = (started.elapsed() - read).as_millis() as u64,
                "authorization index loaded"
            );
            Ok(LiveIndex::over(store, index))
        })
        .await
    }

    /// `index` (built in memory, by tools and benchmarks) kept current from `store`.
    pub fn over(store: Arc<dyn Store>, index: Index) -> Arc<LiveIndex> {
        Arc::new(LiveIndex {
            index,
            store,
            catching_up: tokio::sync::Mutex::new(()),
        })
    }

    /// Applies the grant changes committed since the known revision: one member's change is
    /// applied to that member alone (their roles and project grants read afresh), anything
    /// else reloads its organization whole, as does a member of an organization the index does
    /// not hold yet. Every change is read as it stands now, so applying them in any order
    /// gives the state of the newest revision. Concurrent callers wait for one catch-up instead
    /// of repeating it.
    pub async fn catch_up(&self) -> StoreResult<u64> {
        // Only this function changes the index after the load, one caller at a time: what
        // `knows` answers below still holds when the changes are applied.
        let _one = self.catching_up.lock().await;
        let known = self.revision();
        let mut tx = self.store.read().await?;
        let (changes, newest) = tx.grant_changes_since(known).await?;
        if changes.is_empty() {
            return Ok(known);
        }
        let mut whole: Vec<OrgId> = Vec::new();
        for c in &changes {
            if (c.member.is_none() || !self.index.knows(c.org)) && !whole.contains(&c.org) {
                whole.push(c.org);
            }
        }
        let mut members = Vec::new();
        for c in &changes {
            let Some(user) = c.member.filter(|_| !whole.contains(&c.org)) else {
                continue;
            };
            let grants = tx
                .member_grants(c.org, user)
                .await?
                .map(|(roles, granted)| MemberGrants::build(&roles, granted));
            members.push((c.org, user, grants));
        }
        let mut fresh = Vec::with_capacity(whole.len());
        for org in whole {
            let snap = tx.load_grants(Some(org)).await?.into_iter().next();
            fresh.push((org, snap.map(|s| OrgGrants::from_snapshot(&s))));
        }
        drop(tx);
        self.index.apply_with_members(fresh, members, newest);
        Ok(newest)
    }

    /// Follows changes made by other processes: wakes on each notification, and polls every
    /// `poll` in case one was lost.
    pub fn follow(
        self: &Arc<Self>,
        mut notifications: Option<tokio::sync::mpsc::Receiver<()>>,
        poll: Duration,
    ) {
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                match notifications.as_mut() {
                    Some(rx) => {
                        tokio::select! {
                            got = rx.recv() => if got.is_none() { notifications = None },
                            () = tokio::time::sleep(poll) => {}
                        }
                    }
                    None => tokio::time::sleep(poll).await,
                }
                let Some(index) = me.upgrade() else { return };
                if let Err(e) = index.catch_up().await {
                    tracing::warn!(error = %e, "could not refresh the authorization index");
                }
            }
        });
    }
}
