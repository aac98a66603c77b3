//! Authorization: the one evaluator every permission question goes through.

pub mod eval;
