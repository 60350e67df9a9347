//! The invariant that matters most: never sell a seat twice, however many ask at once.

use std::sync::Arc;

use futures::future::join_all;

use crate::helpers::*;

/// Asserts the API, the actor's memory and the database agree on a city event's seats, and that
/// the counters equal the rows that justify them.
pub async fn assert_all_agree(app: &TestApp, id: i64, expect_taken: i64) {
    let api = app.availability(id).await;
    let held_rows =
        app.db.scalar(&format!("SELECT coalesce(sum(quantity), 0)::bigint FROM bookings WHERE city_event_id = {id} AND status = 'held'"));
    let sold_rows = app
        .db
        .scalar(&format!("SELECT coalesce(sum(quantity), 0)::bigint FROM bookings WHERE city_event_id = {id} AND status = 'confirmed'"));
    let held_counter = app.db.scalar(&format!("SELECT seats_held::bigint FROM city_events WHERE id = {id}"));
    let sold_counter = app.db.scalar(&format!("SELECT seats_sold::bigint FROM city_events WHERE id = {id}"));
    let capacity = app.db.scalar(&format!("SELECT capacity::bigint FROM city_events WHERE id = {id}"));
    let actor = app.registry.availability(billetterie::domain::CityEventId(id)).unwrap();
    assert_eq!(held_rows, held_counter, "held counter follows the rows");
    assert_eq!(sold_rows, sold_counter, "sold counter follows the rows");
    assert_eq!(held_rows + sold_rows, expect_taken);
    assert!(held_rows + sold_rows <= capacity, "never above capacity");
    assert_eq!(api["held"].as_i64().unwrap(), held_rows, "API = database");
    assert_eq!(api["sold"].as_i64().unwrap(), sold_rows);
    assert_eq!(api["available"].as_i64().unwrap(), capacity - held_rows - sold_rows);
    assert_eq!(i64::from(actor.held), held_rows, "actor = database");
    assert_eq!(i64::from(actor.sold), sold_rows);
}

#[actix_web::test]
async fn two_thousand_concurrent_holds_sell_exactly_thirty_seats() {
    let app = Arc::new(spawn_app().await);
    let id = app.city_event_of("halifax");
    assert_eq!(app.availability(id).await["total"], 30);

    let requests = (0..2000).map(|_| {
        let app = app.clone();
        async move { app.hold(id, 1).await }
    });
    let results = join_all(requests).await;

    let won: Vec<_> = results.iter().filter(|(s, _)| *s == 201).collect();
    let refused = results.iter().filter(|(s, b)| *s == 409 && b["error"]["code"] == "sold_out").count();
    let other: Vec<_> = results.iter().filter(|(s, _)| *s != 201 && *s != 409).collect();
    assert!(other.is_empty(), "only 201 and 409 expected, got {:?}", other.iter().take(3).collect::<Vec<_>>());
    assert_eq!(won.len(), 30, "exactly the capacity is held");
    assert_eq!(refused, 1970);
    let mut references: Vec<&str> = won.iter().map(|(_, b)| b["reference"].as_str().unwrap()).collect();
    references.sort();
    references.dedup();
    assert_eq!(references.len(), 30, "every winner has its own reference");
    assert_eq!(app.db.scalar(&format!("SELECT count(*) FROM bookings WHERE city_event_id = {id}")), 30, "refusals wrote nothing");
    assert_all_agree(&app, id, 30).await;
}

#[actix_web::test]
async fn mixed_quantities_under_contention_never_exceed_capacity_and_every_ack_is_durable() {
    let app = Arc::new(spawn_app().await);
    let id = app.city_event_of("calgary"); // 80 seats
    let requests = (0..600).map(|i| {
        let app = app.clone();
        async move { app.hold(id, (i % 4) + 1).await }
    });
    let results = join_all(requests).await;
    let mut acknowledged = 0;
    for (status, body) in &results {
        match status {
            201 => {
                acknowledged += body["quantity"].as_i64().unwrap();
                let reference = body["reference"].as_str().unwrap();
                assert_eq!(app.db.scalar(&format!("SELECT count(*) FROM bookings WHERE reference = '{reference}' AND status = 'held'")), 1);
            }
            409 => assert!(["sold_out", "not_enough_seats"].contains(&body["error"]["code"].as_str().unwrap())),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(acknowledged <= 80);
    assert!(acknowledged >= 77, "the last seats go to whoever still fits (got {acknowledged})");
    assert_all_agree(&app, id, acknowledged).await;
}

#[actix_web::test]
async fn holds_cancels_and_confirms_interleaved_keep_memory_and_database_equal() {
    let app = Arc::new(spawn_app().await);
    let id = app.city_event_of("quebec"); // 150 seats
    let handle = app.registry.handle(billetterie::domain::CityEventId(id)).unwrap();
    let tasks = (0..200).map(|i| {
        let app = app.clone();
        let handle = handle.clone();
        async move {
            let (status, body) = app.hold(id, 1 + i % 2).await;
            if status != 201 {
                return 0;
            }
            let booking_id: billetterie::domain::BookingId = body["booking_id"].as_str().unwrap().parse().unwrap();
            let qty = body["quantity"].as_i64().unwrap() as i32;
            match i % 3 {
                0 => {
                    handle.cancel(booking_id).await.unwrap();
                    0
                }
                1 => {
                    handle.confirm(booking_id, qty).await.unwrap();
                    i64::from(qty)
                }
                _ => i64::from(qty),
            }
        }
    });
    let taken: i64 = join_all(tasks).await.into_iter().sum();
    assert_all_agree(&app, id, taken).await;
}

#[actix_web::test]
async fn the_same_confirmation_or_refund_sent_many_times_at_once_counts_once() {
    let app = Arc::new(spawn_app().await);
    let id = app.city_event_of("toronto");
    let handle = app.registry.handle(billetterie::domain::CityEventId(id)).unwrap();
    let (_, booking_id) = app.held(id, 3).await;
    let confirms = join_all((0..20).map(|_| handle.confirm(booking_id, 3))).await;
    assert!(confirms.iter().any(|r| r.is_ok()));
    assert_all_agree(&app, id, 3).await;
    assert_eq!(app.availability(id).await["sold"], 3);

    let refunds = join_all((0..20).map(|_| handle.refund(booking_id, 3))).await;
    assert_eq!(refunds.iter().filter(|r| r.is_ok()).count(), 1, "one refund frees the seats, the others are told it is done");
    assert_all_agree(&app, id, 0).await;
    assert_eq!(app.availability(id).await["available"], 250);
}

#[actix_web::test]
async fn past_its_queue_bound_an_actor_answers_429_at_once_and_writes_nothing_for_it() {
    let app = spawn_app().await;
    let id = app.db.add_city_event(100_000);
    let app = Arc::new({
        let db = app.stop().await;
        spawn_app_on(db, |s| s.actor_max_inflight = 4).await
    });
    let requests = (0..300).map(|_| {
        let app = app.clone();
        async move {
            let res = app.client.post(app.url("/api/v1/bookings/create")).json(&booking_body(id, 1)).send().await.unwrap();
            let status = res.status().as_u16();
            let retry_after = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
            let body: serde_json::Value = res.json().await.unwrap();
            (status, retry_after, body)
        }
    });
    let results = join_all(requests).await;
    let created = results.iter().filter(|(s, _, _)| *s == 201).count() as i64;
    let busy: Vec<_> = results.iter().filter(|(s, _, _)| *s == 429).collect();
    assert!(results.iter().all(|(s, _, _)| *s == 201 || *s == 429), "only accepted or busy");
    assert!(!busy.is_empty(), "a bound of 4 in flight refuses some of 300 simultaneous holds");
    assert!(created > 0);
    for (_, retry_after, body) in &busy {
        assert_eq!(retry_after.as_deref(), Some("1"));
        assert_eq!(body["error"]["code"], "busy");
    }
    assert_eq!(
        app.db.scalar(&format!("SELECT count(*) FROM bookings WHERE city_event_id = {id}")),
        created,
        "a refused request wrote nothing"
    );
    assert_all_agree(&app, id, created).await;
}

/// Two batches are written at once: when one is refused by the database (seats taken away
/// behind the actor's back), the other still answers from its own commit, memory is rebuilt
/// once both have ended, and no acknowledged hold is missing.
#[actix_web::test]
async fn a_batch_refused_while_another_is_in_flight_loses_no_acknowledged_hold() {
    let db = Arc::new(TestDb::new());
    let id = db.add_city_event(1_000);
    let app = Arc::new(
        spawn_app_on(db, |s| {
            s.actor_batches_in_flight = 2;
            // The drift check would see the change first; this test is about the batch that meets it.
            s.actor_resync_interval_ms = 600_000;
        })
        .await,
    );
    for _ in 0..10 {
        app.held(id, 1).await;
    }
    // Only five seats left in the database; the actor still believes in 990.
    app.db.execute(&format!("UPDATE city_events SET capacity = 15 WHERE id = {id}")).unwrap();
    let results = join_all((0..300).map(|_| {
        let app = app.clone();
        async move { app.hold(id, 1).await }
    }))
    .await;
    let won: Vec<&str> = results.iter().filter(|(s, _)| *s == 201).map(|(_, b)| b["reference"].as_str().unwrap()).collect();
    let unexpected: Vec<_> = results.iter().filter(|(s, _)| ![201, 409, 503].contains(s)).collect();
    assert!(unexpected.is_empty(), "{:?}", unexpected.iter().take(3).collect::<Vec<_>>());
    assert!(results.iter().any(|(s, _)| *s == 503), "a batch was refused by the database (its holds got 503)");
    assert!(won.len() <= 5, "{} holds acknowledged for five seats", won.len());
    for r in &won {
        assert_eq!(app.booking_status(r), "held", "{r} was acknowledged, so it is in the database");
    }
    // Memory rebuilt from the database: the next holds see five minus what was won.
    assert!(
        eventually(std::time::Duration::from_secs(5), async || app.availability(id).await["total"] == 15).await,
        "the actor rebuilt its memory"
    );
    assert_all_agree(&app, id, 10 + won.len() as i64).await;
    let left = 5 - won.len();
    let more = join_all((0..20).map(|_| {
        let app = app.clone();
        async move { app.hold(id, 1).await.0 }
    }))
    .await;
    assert_eq!(more.iter().filter(|s| **s == 201).count(), left, "{more:?}");
    assert_all_agree(&app, id, 15).await;
}
