//! E-mail: what is sent (the sequence rules), how it is written (templates, locale strings,
//! calendar file attached), how it leaves (transports), and what happened to it (tracking).

pub mod dispatch;
pub mod outbox;
pub mod paperwork;
pub mod render;
pub mod sendgrid;
pub mod sequence;
pub mod smtp;
pub mod tracking;
pub mod transport;
