// Mirrors migrations/ (what `diesel print-schema` prints for them).

diesel::table! {
    attendees (id) {
        id -> Int8,
        booking_id -> Uuid,
        position -> Int4,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        email -> Nullable<Text>,
        ticket_code -> Text,
        licence_number -> Nullable<Text>,
        checked_in_at -> Nullable<Timestamptz>,
        checked_in_by -> Nullable<Int8>,
    }
}

diesel::table! {
    bookings (id) {
        id -> Uuid,
        reference -> Text,
        city_event_id -> Int8,
        quantity -> Int4,
        status -> Text,
        buyer_first_name -> Text,
        buyer_last_name -> Text,
        buyer_email -> Text,
        buyer_phone -> Text,
        act_experience -> Text,
        language -> Text,
        promo_code -> Nullable<Text>,
        unit_price_cents -> Int8,
        subtotal_cents -> Int8,
        discount_cents -> Int8,
        taxes -> Jsonb,
        tax_cents -> Int8,
        total_cents -> Int8,
        currency -> Bpchar,
        hold_expires_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        confirmed_at -> Nullable<Timestamptz>,
        closed_at -> Nullable<Timestamptz>,
        moved_to -> Nullable<Uuid>,
        moved_from -> Nullable<Uuid>,
        anonymised_at -> Nullable<Timestamptz>,
        company_name -> Nullable<Text>,
        billing_address -> Nullable<Text>,
        purchase_order -> Nullable<Text>,
    }
}

diesel::table! {
    cities (id) {
        id -> Int8,
        slug -> Text,
        name_en -> Text,
        name_fr -> Text,
        province -> Bpchar,
        code -> Bpchar,
    }
}

diesel::table! {
    city_events (id) {
        id -> Int8,
        masterclass_event_id -> Int8,
        city_id -> Int8,
        venue_id -> Int8,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        time_zone -> Text,
        capacity -> Int4,
        seats_held -> Int4,
        seats_sold -> Int4,
        currency -> Bpchar,
        regular_price_cents -> Int8,
        early_bird_price_cents -> Nullable<Int8>,
        early_bird_until -> Nullable<Timestamptz>,
        group_price_cents -> Nullable<Int8>,
        group_min_quantity -> Nullable<Int4>,
        status -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    email_campaigns (id) {
        id -> Int8,
        booking_id -> Nullable<Uuid>,
        attendee_id -> Nullable<Int8>,
        kind -> Text,
        recipient_email -> Text,
        language -> Text,
        status -> Text,
        attempts -> Int4,
        last_error -> Nullable<Text>,
        scheduled_for -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
        opened_at -> Nullable<Timestamptz>,
        clicked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        next_attempt_at -> Timestamptz,
        claimed_at -> Nullable<Timestamptz>,
        provider_message_id -> Nullable<Text>,
        transport -> Nullable<Text>,
        occurrence -> Text,
        waitlist_entry_id -> Nullable<Int8>,
    }
}

diesel::table! {
    broadcasts (id) {
        id -> Int8,
        city_event_id -> Int8,
        subject_fr -> Text,
        subject_en -> Text,
        body_fr -> Text,
        body_en -> Text,
        sent_by -> Text,
        recipients -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    date_cancellations (city_event_id) {
        city_event_id -> Int8,
        reason_fr -> Text,
        reason_en -> Text,
        started_by -> Text,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    masterclass_events (id) {
        id -> Int8,
        slug -> Text,
        title_en -> Text,
        title_fr -> Text,
        summary_en -> Text,
        summary_fr -> Text,
        presenter -> Text,
        created_at -> Timestamptz,
        ce_hours -> Int4,
        refund_window_days -> Int4,
        name_change_days -> Int4,
        resources_days -> Int4,
        certificate_days -> Int4,
        presenter_photo_url -> Text,
    }
}

diesel::table! {
    organiser (id) {
        id -> Int2,
        legal_name -> Text,
        address -> Text,
        support_email -> Text,
        support_phone -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    programme_items (id) {
        id -> Int8,
        masterclass_event_id -> Int8,
        position -> Int2,
        starts_minutes -> Int4,
        ends_minutes -> Nullable<Int4>,
        label_en -> Text,
        label_fr -> Text,
        brief -> Bool,
    }
}

diesel::table! {
    venue_facts (venue_id) {
        venue_id -> Int8,
        transit_en -> Text,
        transit_fr -> Text,
        parking_en -> Text,
        parking_fr -> Text,
        hotels_en -> Text,
        hotels_fr -> Text,
        restaurants_en -> Text,
        restaurants_fr -> Text,
        accessibility_en -> Text,
        accessibility_fr -> Text,
        wifi_network -> Text,
        wifi_password -> Text,
        emergency_phone -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    payments (id) {
        id -> Int8,
        booking_id -> Uuid,
        provider -> Text,
        payment_intent_id -> Text,
        amount_cents -> Int8,
        amount_refunded_cents -> Int8,
        currency -> Bpchar,
        status -> Text,
        flagged_reason -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        last_error -> Nullable<Text>,
        flagged_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    stripe_events (id) {
        id -> Text,
        #[sql_name = "type"]
        kind -> Text,
        payload -> Jsonb,
        received_at -> Timestamptz,
        processed_at -> Nullable<Timestamptz>,
        attempts -> Int4,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    promo_codes (id) {
        id -> Int8,
        code -> Text,
        city_event_id -> Nullable<Int8>,
        percent_off -> Nullable<Int4>,
        valid_until -> Nullable<Timestamptz>,
        active -> Bool,
        kind -> Text,
        amount_off_cents -> Nullable<Int8>,
        max_uses -> Nullable<Int4>,
        valid_from -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    promo_claims (id) {
        id -> Int8,
        promo_code_id -> Int8,
        claimed_at -> Timestamptz,
    }
}

diesel::table! {
    sales_taxes (id) {
        id -> Int8,
        province -> Bpchar,
        code -> Text,
        label_en -> Text,
        label_fr -> Text,
        rate_per_100k -> Int4,
        registration_number -> Text,
        position -> Int2,
    }
}

diesel::table! {
    venues (id) {
        id -> Int8,
        city_id -> Int8,
        name -> Text,
        address -> Text,
        postal_code -> Text,
        time_zone -> Text,
    }
}

diesel::table! {
    admin_users (id) {
        id -> Int8,
        email -> Text,
        password_hash -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        disabled -> Bool,
        role -> Text,
    }
}

diesel::table! {
    voided_tickets (ticket_code) {
        ticket_code -> Text,
        attendee_id -> Int8,
        voided_at -> Timestamptz,
    }
}

diesel::table! {
    invoice_sequences (kind) {
        kind -> Text,
        last_number -> Int8,
    }
}

diesel::table! {
    invoices (id) {
        id -> Int8,
        kind -> Text,
        number -> Int8,
        booking_id -> Uuid,
        amount_cents -> Int8,
        occurrence -> Text,
        issued_at -> Timestamptz,
    }
}

diesel::table! {
    admin_sessions (id) {
        id -> Int8,
        token_hash -> Text,
        admin_user_id -> Int8,
        created_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        expires_at -> Timestamptz,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    admin_login_attempts (id) {
        id -> Int8,
        email -> Text,
        ip -> Text,
        success -> Bool,
        at -> Timestamptz,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Int8,
        admin_user_id -> Nullable<Int8>,
        actor_email -> Text,
        action -> Text,
        target_type -> Text,
        target_id -> Text,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
        ip -> Nullable<Text>,
        at -> Timestamptz,
    }
}

diesel::table! {
    availability_views (city_event_id, hour) {
        city_event_id -> Int8,
        hour -> Timestamptz,
        views -> Int8,
    }
}

diesel::table! {
    waitlist_entries (id) {
        id -> Int8,
        city_event_id -> Int8,
        first_name -> Text,
        last_name -> Text,
        email -> Text,
        language -> Text,
        status -> Text,
        created_at -> Timestamptz,
        offered_at -> Nullable<Timestamptz>,
        offer_booking_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    feedback_answers (id) {
        id -> Int8,
        attendee_id -> Int8,
        city_event_id -> Int8,
        language -> Text,
        overall -> Int4,
        content -> Int4,
        presenter -> Int4,
        venue -> Int4,
        would_recommend -> Bool,
        comments -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    resources (id) {
        id -> Int8,
        masterclass_event_id -> Int8,
        title -> Text,
        url -> Nullable<Text>,
        filename -> Nullable<Text>,
        content_type -> Nullable<Text>,
        size_bytes -> Nullable<Int8>,
        sha256 -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(admin_sessions -> admin_users (admin_user_id));
diesel::joinable!(audit_log -> admin_users (admin_user_id));
diesel::joinable!(availability_views -> city_events (city_event_id));
diesel::joinable!(waitlist_entries -> city_events (city_event_id));
diesel::joinable!(attendees -> bookings (booking_id));
diesel::joinable!(voided_tickets -> attendees (attendee_id));
diesel::joinable!(invoices -> bookings (booking_id));
diesel::joinable!(bookings -> city_events (city_event_id));
diesel::joinable!(city_events -> cities (city_id));
diesel::joinable!(city_events -> masterclass_events (masterclass_event_id));
diesel::joinable!(city_events -> venues (venue_id));
diesel::joinable!(email_campaigns -> bookings (booking_id));
diesel::joinable!(payments -> bookings (booking_id));
diesel::joinable!(promo_codes -> city_events (city_event_id));
diesel::joinable!(broadcasts -> city_events (city_event_id));
diesel::joinable!(date_cancellations -> city_events (city_event_id));
diesel::joinable!(promo_claims -> promo_codes (promo_code_id));
diesel::joinable!(venues -> cities (city_id));
diesel::joinable!(programme_items -> masterclass_events (masterclass_event_id));
diesel::joinable!(venue_facts -> venues (venue_id));
diesel::joinable!(feedback_answers -> attendees (attendee_id));
diesel::joinable!(feedback_answers -> city_events (city_event_id));
diesel::joinable!(resources -> masterclass_events (masterclass_event_id));

diesel::allow_tables_to_appear_in_same_query!(
    broadcasts,
    date_cancellations,
    promo_claims,
    admin_login_attempts,
    admin_sessions,
    admin_users,
    audit_log,
    availability_views,
    waitlist_entries,
    attendees,
    voided_tickets,
    invoices,
    invoice_sequences,
    bookings,
    cities,
    city_events,
    email_campaigns,
    masterclass_events,
    organiser,
    programme_items,
    venue_facts,
    payments,
    promo_codes,
    sales_taxes,
    stripe_events,
    venues,
    feedback_answers,
    resources,
);
