//! Authorization: the one evaluator every permission question goes through, and the in-memory
//! index the check API answers from.

pub mod eval;
pub mod index;
