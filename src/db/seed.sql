-- The demo catalogue: the masterclass touring six Canadian cities in 2027. Idempotent.

INSERT INTO masterclass_events (slug, title_en, title_fr, summary_en, summary_fr, presenter) VALUES (
    'act-made-simple-2027',
    'ACT Made Simple: a one-day masterclass with Dr Russ Harris',
    'L’ACT en toute simplicité : une journée de classe de maître avec le Dr Russ Harris',
    'A practical, experiential day on Acceptance and Commitment Therapy for therapists, psychologists, counsellors and coaches: the six core processes, how to use them in session, and how to get unstuck with difficult clients.',
    'Une journée pratique et expérientielle sur la thérapie d’acceptation et d’engagement pour les psychothérapeutes, psychologues, conseillers et coachs : les six processus clés, comment les utiliser en séance et comment débloquer les situations difficiles avec vos clients.',
    'Dr Russ Harris'
) ON CONFLICT (slug) DO NOTHING;

-- Sales tax on admission to a seminar, by province where it is held (place of supply).
-- Demo registration numbers; the organiser replaces them with their own.
INSERT INTO sales_taxes (province, code, label_en, label_fr, rate_per_100k, registration_number, position) VALUES
    ('QC', 'GST', 'GST', 'TPS', 5000, '123456789 RT0001', 1),
    ('QC', 'QST', 'QST', 'TVQ', 9975, '1234567890 TQ0001', 2),
    ('ON', 'HST', 'HST', 'TVH', 13000, '123456789 RT0001', 1),
    ('NS', 'HST', 'HST', 'TVH', 14000, '123456789 RT0001', 1),
    ('NB', 'HST', 'HST', 'TVH', 15000, '123456789 RT0001', 1),
    ('NL', 'HST', 'HST', 'TVH', 15000, '123456789 RT0001', 1),
    ('PE', 'HST', 'HST', 'TVH', 15000, '123456789 RT0001', 1),
    ('AB', 'GST', 'GST', 'TPS', 5000, '123456789 RT0001', 1),
    ('BC', 'GST', 'GST', 'TPS', 5000, '123456789 RT0001', 1),
    ('MB', 'GST', 'GST', 'TPS', 5000, '123456789 RT0001', 1),
    ('SK', 'GST', 'GST', 'TPS', 5000, '123456789 RT0001', 1),
    ('NT', 'GST', 'GST', 'TPS', 5000, '123456789 RT0001', 1),
    ('NU', 'GST', 'GST', 'TPS', 5000, '123456789 RT0001', 1),
    ('YT', 'GST', 'GST', 'TPS', 5000, '123456789 RT0001', 1)
ON CONFLICT (province, code) DO NOTHING;

INSERT INTO cities (slug, name_en, name_fr, province, code) VALUES
    ('montreal', 'Montréal', 'Montréal', 'QC', 'MTL'),
    ('quebec', 'Québec City', 'Québec', 'QC', 'QUE'),
    ('toronto', 'Toronto', 'Toronto', 'ON', 'TOR'),
    ('vancouver', 'Vancouver', 'Vancouver', 'BC', 'VAN'),
    ('calgary', 'Calgary', 'Calgary', 'AB', 'CAL'),
    ('halifax', 'Halifax', 'Halifax', 'NS', 'HAL')
ON CONFLICT (slug) DO NOTHING;

INSERT INTO venues (city_id, name, address, postal_code, time_zone)
SELECT c.id, v.name, v.address, v.postal_code, v.time_zone
FROM (VALUES
    ('montreal', 'Palais des congrès de Montréal', '1001, place Jean-Paul-Riopelle, Montréal (Québec)', 'H2Z 1H5', 'America/Toronto'),
    ('quebec', 'Centre des congrès de Québec', '1000, boulevard René-Lévesque Est, Québec (Québec)', 'G1R 5T8', 'America/Toronto'),
    ('toronto', 'Metro Toronto Convention Centre', '255 Front Street West, Toronto, Ontario', 'M5V 2W6', 'America/Toronto'),
    ('vancouver', 'Vancouver Convention Centre', '1055 Canada Place, Vancouver, British Columbia', 'V6C 0C3', 'America/Vancouver'),
    ('calgary', 'Calgary TELUS Convention Centre', '120 9 Avenue SE, Calgary, Alberta', 'T2G 0P3', 'America/Edmonton'),
    ('halifax', 'Halifax Convention Centre', '1650 Argyle Street, Halifax, Nova Scotia', 'B3J 0E6', 'America/Halifax')
) AS v(city, name, address, postal_code, time_zone)
JOIN cities c ON c.slug = v.city
WHERE NOT EXISTS (SELECT 1 FROM venues x WHERE x.city_id = c.id AND x.name = v.name);

-- 9:00 to 16:30 local time. Early-bird price until the end of January 2027 (Eastern time),
-- group price from 5 seats in one booking.
INSERT INTO city_events (masterclass_event_id, city_id, venue_id, starts_at, ends_at, time_zone, capacity,
                         regular_price_cents, early_bird_price_cents, early_bird_until, group_price_cents, group_min_quantity)
SELECT m.id, c.id, v.id,
       (e.day || ' 09:00')::timestamp AT TIME ZONE v.time_zone,
       (e.day || ' 16:30')::timestamp AT TIME ZONE v.time_zone,
       v.time_zone, e.capacity, 49500, 39500, TIMESTAMPTZ '2027-02-01 00:00:00 America/Toronto', 44500, 5
FROM (VALUES
    ('montreal', '2027-04-16', 300),
    ('quebec', '2027-04-19', 150),
    ('toronto', '2027-05-03', 250),
    ('vancouver', '2027-05-20', 200),
    ('calgary', '2027-05-25', 80),
    ('halifax', '2027-06-07', 30)
) AS e(city, day, capacity)
JOIN cities c ON c.slug = e.city
JOIN venues v ON v.city_id = c.id
CROSS JOIN (SELECT id FROM masterclass_events WHERE slug = 'act-made-simple-2027') m
ON CONFLICT (masterclass_event_id, venue_id, starts_at) DO NOTHING;

INSERT INTO promo_codes (code, percent_off, valid_until) VALUES
    ('BIENVENUE10', 10, TIMESTAMPTZ '2027-06-30 23:59:59 America/Toronto')
ON CONFLICT (code) DO NOTHING;
