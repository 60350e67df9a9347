use serde::{Deserialize, Serialize};

/// The mails of a booking's life. The first six are the sequence (confirmation at once, then
/// reminders relative to the day of the masterclass); `RefundNotice` tells a buyer whose payment
/// came after their hold ended, with no seat left, that they were refunded; `WaitlistOffer` tells
/// someone on a waiting list that a seat is held for them until a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailKind {
    Confirmation,
    JMinus30,
    JMinus14,
    JMinus7,
    JMinus1,
    JPlus1,
    RefundNotice,
    WaitlistOffer,
    /// The organiser's message to everyone booked on a date.
    Broadcast,
    /// The date is cancelled: the booking is refunded or released.
    DateCancelled,
}

impl EmailKind {
    pub const ALL: [EmailKind; 10] = [
        EmailKind::Confirmation,
        EmailKind::JMinus30,
        EmailKind::JMinus14,
        EmailKind::JMinus7,
        EmailKind::JMinus1,
        EmailKind::JPlus1,
        EmailKind::RefundNotice,
        EmailKind::WaitlistOffer,
        EmailKind::Broadcast,
        EmailKind::DateCancelled,
    ];

    /// The reminders, in the order they go out.
    pub const REMINDERS: [EmailKind; 5] =
        [EmailKind::JMinus30, EmailKind::JMinus14, EmailKind::JMinus7, EmailKind::JMinus1, EmailKind::JPlus1];

    pub fn as_str(self) -> &'static str {
        match self {
            EmailKind::Confirmation => "confirmation",
            EmailKind::JMinus30 => "j_minus_30",
            EmailKind::JMinus14 => "j_minus_14",
            EmailKind::JMinus7 => "j_minus_7",
            EmailKind::JMinus1 => "j_minus_1",
            EmailKind::JPlus1 => "j_plus_1",
            EmailKind::RefundNotice => "refund_notice",
            EmailKind::Broadcast => "broadcast",
            EmailKind::DateCancelled => "date_cancelled",
            EmailKind::WaitlistOffer => "waitlist_offer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        EmailKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Days from the masterclass day (negative: before). `None` for mails sent on an event.
    pub fn day_offset(self) -> Option<i64> {
        match self {
            EmailKind::JMinus30 => Some(-30),
            EmailKind::JMinus14 => Some(-14),
            EmailKind::JMinus7 => Some(-7),
            EmailKind::JMinus1 => Some(-1),
            EmailKind::JPlus1 => Some(1),
            EmailKind::Confirmation
            | EmailKind::RefundNotice
            | EmailKind::WaitlistOffer
            | EmailKind::Broadcast
            | EmailKind::DateCancelled => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in EmailKind::ALL {
            assert_eq!(EmailKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EmailKind::parse("j_minus_2"), None);
    }
}
