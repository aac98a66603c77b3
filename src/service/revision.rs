//! The revision a request committed, for its answer: every write that changes grants bumps the
//! global revision in its transaction, and the answer carries it (`Guildhall-Revision`), so a
//! client can pass it to the check API as `at_least_revision` on any process.

use std::cell::Cell;

tokio::task_local! {
    /// The highest revision committed while handling the current request; 0 for none.
    pub static COMMITTED: Cell<u64>;
}

/// Notes that the current request committed `revision` (outside a request: nothing to do).
pub(super) fn note(revision: u64) {
    let _ = COMMITTED.try_with(|c| c.set(c.get().max(revision)));
}
