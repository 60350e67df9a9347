//! Why a reservation request was refused: the answers the city event's actor (or, without one,
//! the database) gives. Here rather than in `actors` because payments, below the actors, carries
//! them in its errors.

/// Why a reservation request was refused. Every variant is an answer the API can give as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReservationError {
    #[error("this city event is sold out")]
    SoldOut,
    #[error("only {available} seats are left")]
    NotEnoughSeats { available: i32 },
    #[error("sales are not open for this city event ({status})")]
    SalesClosed { status: String },
    #[error("no such city event")]
    UnknownCityEvent,
    #[error("too many requests for this city event right now")]
    Busy { retry_after_secs: u32 },
    #[error("reservations are temporarily unavailable")]
    Unavailable { retry_after_secs: u32 },
    #[error("the booking is not {expected}")]
    WrongStatus { expected: &'static str },
    #[error("this address is already on the waiting list")]
    AlreadyWaiting,
    #[error("{available} seats are free: book them instead of waiting")]
    SeatsAvailable { available: i32 },
    #[error("{taken} seats are held or sold: the capacity cannot go below")]
    CapacityBelowTaken { taken: i32 },
}
