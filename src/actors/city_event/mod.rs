//! `CityEventActor`: the authority on one city event's seats.
//!
//! Decisions are made in memory, synchronously, inside `handle`, so no two messages interleave.
//! A hold that fits reserves its seats at once (tentatively) and joins the `pending` batch; a hold
//! that does not fit is refused at once, with no I/O. One batch at a time is written in one
//! transaction; when it ends, every request of the batch is answered: success only after the
//! commit. Requests that arrive during a commit form the next batch, so under light load a batch
//! is one request and under a burst batches grow by themselves (group commit).
//!
//! Seats are taken away from availability before the commit (holds, late confirmations) and given
//! back only after it (cancellations, expiries, refunds): whatever the outcome of a commit, memory
//! never shows more free seats than the database has. If a commit fails, or its outcome is unknown,
//! the batch and everything queued is refused and the actor rebuilds its memory from the database.
//!
//! Files, in the order a reader meets them: `messages` (what is asked), `actor` (state, start,
//! supervision), `handlers` (one per message), `batch` (the group commit), `load` (state from the
//! database), `prepare` (a hold's rows, built by the caller), `shared` (offer and snapshot the
//! handle reads), `seats` (the actor's memory), `handle` (what the application holds).

mod actor;
mod batch;
mod handle;
mod handlers;
mod load;
mod messages;
mod prepare;
mod seats;
mod shared;
#[cfg(test)]
mod tests;

pub use actor::CityEventActor;
pub use handle::CityEventHandle;
pub use messages::HoldReceipt;
pub use prepare::{prepare_hold, prepare_offer, PreparedHold};
pub use seats::Waiting;
pub use shared::{Offer, SeatSnapshot};
