//! What a back-office account may do.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminRole {
    /// The organiser: everything.
    Owner,
    /// Door staff: the check-in, and nothing else.
    Staff,
}

impl AdminRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Staff => "staff",
        }
    }

    /// The column's value; anything unknown is the least trusted role.
    pub fn from_db(s: &str) -> Self {
        if s == "owner" {
            Self::Owner
        } else {
            Self::Staff
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "owner" => Some(Self::Owner),
            "staff" => Some(Self::Staff),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_unknown_is_staff() {
        for r in [AdminRole::Owner, AdminRole::Staff] {
            assert_eq!(AdminRole::from_db(r.as_str()), r);
            assert_eq!(AdminRole::parse(r.as_str()), Some(r));
        }
        assert_eq!(AdminRole::from_db("root"), AdminRole::Staff);
        assert_eq!(AdminRole::parse("admin"), None);
    }
}
