//! The one opaque cursor codec. A cursor is the sort position of the last row of a page, so it
//! stays valid while rows are added; clients must treat it as an opaque string.

use super::problem::ApiError;
use crate::domain::FieldError;
use crate::store::After;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Encodes a keyset position.
pub fn encode_after(a: &After) -> String {
    let raw = serde_json::json!([a.key, a.id]).to_string();
    URL_SAFE_NO_PAD.encode(raw)
}

/// Decodes a keyset position.
pub fn decode_after(cursor: &str) -> Result<After, ApiError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let (key, id): (String, uuid::Uuid) = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    // Keys this server gives out are lowercased names: never control characters.
    if key.chars().any(char::is_control) || key.chars().count() > 400 {
        return Err(bad());
    }
    Ok(After { key, id })
}

/// Encodes a log position.
pub fn encode_seq(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("seq:{seq}"))
}

/// Decodes a log position.
pub fn decode_seq(cursor: &str) -> Result<i64, ApiError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    std::str::from_utf8(&bytes)
        .ok()
        .and_then(|s| s.strip_prefix("seq:"))
        .and_then(|n| n.parse().ok())
        .ok_or_else(bad)
}

fn bad() -> ApiError {
    ApiError::from(vec![FieldError::new(
        "cursor",
        "is not a cursor this server gave out; start again without it",
    )])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let a = After {
            key: "ärger gmbh".into(),
            id: uuid::Uuid::now_v7(),
        };
        assert_eq!(decode_after(&encode_after(&a)).ok(), Some(a));
        assert_eq!(decode_seq(&encode_seq(42)).ok(), Some(42));
        assert!(decode_after("not a cursor").is_err());
        assert!(
            decode_seq(&encode_after(&After {
                key: "x".into(),
                id: uuid::Uuid::nil()
            }))
            .is_err()
        );
    }
}
