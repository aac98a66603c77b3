//! The time source. Rules take `now` as an argument; this is where handlers get it.

use chrono::{DateTime, Utc};

/// Tells the time. The server uses the system clock; tests may use one they can move.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
