//! The stand-ins (Stripe, SendGrid) serve the same way: one worker on a free loopback port,
//! no signal handling of their own (the host process owns SIGTERM), spawned on the caller's actix
//! System.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpServer};

/// Serves `routes` with `shared` as app data on `127.0.0.1:0`; returns the bound address and a
/// handle to stop it. Must be called inside an actix System.
pub fn serve_on_loopback<T: Send + Sync + 'static>(
    shared: Arc<T>,
    routes: fn(&mut web::ServiceConfig),
) -> io::Result<(SocketAddr, ServerHandle)> {
    let data = web::Data::from(shared);
    let server = HttpServer::new(move || App::new().app_data(data.clone()).configure(routes))
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .bind(("127.0.0.1", 0))?;
    let addr = server.addrs().first().copied().ok_or_else(|| io::Error::other("the stand-in bound no address"))?;
    let server = server.run();
    let handle = server.handle();
    actix_rt::spawn(server);
    Ok((addr, handle))
}
