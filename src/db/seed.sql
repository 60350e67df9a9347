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

-- The organiser, the programme of the day and each venue's practical facts (demo values: the
-- organiser replaces them in the back office).
UPDATE organiser SET legal_name = 'Formations ACT Canada inc.',
                     address = '400, boulevard De Maisonneuve Ouest, bureau 700, Montréal (Québec) H3A 1L4',
                     support_email = 'aide@billetterie.example', support_phone = '1 888 555-0142'
WHERE id = 1 AND legal_name = '';

INSERT INTO programme_items (masterclass_event_id, position, starts_minutes, ends_minutes, label_en, label_fr, brief)
SELECT m.id, p.position, p.starts_minutes, p.ends_minutes, p.label_en, p.label_fr, p.brief
FROM (VALUES
    (0, -30, NULL::int, 'Registration and check-in, coffee', 'Accueil et inscription, café', TRUE),
    (1, 0, NULL, 'Welcome and overview of the day', 'Mot de bienvenue et présentation de la journée', TRUE),
    (2, 15, NULL, 'Block 1 — The hexaflex: acceptance and cognitive defusion', 'Bloc 1 — L’hexaflex : acceptation et défusion cognitive', FALSE),
    (3, 90, 105, 'Break', 'Pause', FALSE),
    (4, 105, NULL, 'Block 2 — Contact with the present moment and self-as-context', 'Bloc 2 — Contact avec le moment présent et soi comme contexte', FALSE),
    (5, 180, 240, 'Lunch (on your own)', 'Dîner libre', TRUE),
    (6, 240, NULL, 'Block 3 — Values and committed action, practice in pairs', 'Bloc 3 — Valeurs et action engagée, mise en pratique en dyades', FALSE),
    (7, 330, 345, 'Break', 'Pause', FALSE),
    (8, 345, NULL, 'Block 4 — Case conceptualization, role-plays in pairs and Q&A', 'Bloc 4 — Conceptualisation de cas, jeux de rôle en dyades et période de questions', FALSE),
    (9, 435, NULL, 'Wrap-up and closing remarks', 'Synthèse et mot de la fin', FALSE),
    (10, 450, NULL, 'End of the day', 'Fin de la journée', TRUE)
) AS p(position, starts_minutes, ends_minutes, label_en, label_fr, brief)
CROSS JOIN (SELECT id FROM masterclass_events WHERE slug = 'act-made-simple-2027') m
ON CONFLICT (masterclass_event_id, position) DO NOTHING;

INSERT INTO venue_facts (venue_id, transit_en, transit_fr, parking_en, parking_fr, hotels_en, hotels_fr,
                         restaurants_en, restaurants_fr, accessibility_en, accessibility_fr,
                         wifi_network, wifi_password, emergency_phone)
SELECT v.id, f.transit_en, f.transit_fr, f.parking_en, f.parking_fr, f.hotels_en, f.hotels_fr,
       f.restaurants_en, f.restaurants_fr, f.accessibility_en, f.accessibility_fr,
       f.wifi_network, f.wifi_password, f.emergency_phone
FROM (VALUES
    ('montreal', 'Place-d’Armes metro station (orange line), indoor access.', 'Station de métro Place-d’Armes (ligne orange), accès intérieur.',
     'Underground parking at the Palais, entrance on Saint-Antoine Street.', 'Stationnement souterrain du Palais, entrée rue Saint-Antoine.',
     'Hotel Monville and InterContinental Montréal, a five-minute walk.', 'Hôtel Monville et InterContinental Montréal, à cinq minutes à pied.',
     'Chinatown and Old Montréal, a few minutes on foot.', 'Le quartier chinois et le Vieux-Montréal, à quelques minutes à pied.',
     'Step-free access from the metro; elevators to every floor.', 'Accès sans marche depuis le métro, ascenseurs à tous les étages.',
     'ACT-Montreal', 'hexaflex-mtl', '514 555-0199'),
    ('quebec', 'Bus lines 800 and 801, Parlement stop.', 'Lignes d’autobus 800 et 801, arrêt Parlement.',
     'Centre des congrès parking, entrance on Honoré-Mercier Avenue.', 'Stationnement du Centre des congrès, entrée avenue Honoré-Mercier.',
     'Hilton Québec and Delta Québec, connected to the centre.', 'Hilton Québec et Delta Québec, reliés au Centre.',
     'Grande Allée, a three-minute walk.', 'La Grande Allée, à trois minutes à pied.',
     'Step-free entrance on René-Lévesque Boulevard; elevators.', 'Entrée sans marche boulevard René-Lévesque, ascenseurs.',
     'ACT-Quebec', 'hexaflex-qc', '418 555-0133'),
    ('toronto', 'Union Station (TTC line 1, GO Transit), then the SkyWalk.', 'Gare Union (ligne 1 de la TTC, GO Transit), puis le SkyWalk.',
     'Convention centre parking under the South Building.', 'Stationnement du centre sous l’édifice Sud.',
     'Fairmont Royal York and InterContinental Toronto Centre.', 'Fairmont Royal York et InterContinental Toronto Centre.',
     'The restaurants of the Entertainment District, across Front Street.', 'Les restaurants du quartier des spectacles, de l’autre côté de la rue Front.',
     'Step-free access from the SkyWalk; elevators.', 'Accès sans marche par le SkyWalk, ascenseurs.',
     'ACT-Toronto', 'hexaflex-to', '416 555-0177'),
    ('vancouver', 'Waterfront station (SkyTrain Expo and Canada lines, SeaBus).', 'Station Waterfront (SkyTrain, lignes Expo et Canada, SeaBus).',
     'Underground parking at the West Building, entrance on Canada Place.', 'Stationnement souterrain de l’édifice Ouest, entrée Canada Place.',
     'Pan Pacific Vancouver and Fairmont Waterfront, next door.', 'Pan Pacific Vancouver et Fairmont Waterfront, à côté.',
     'Gastown, a five-minute walk.', 'Gastown, à cinq minutes à pied.',
     'Step-free entrance from Canada Place; elevators.', 'Entrée sans marche depuis Canada Place, ascenseurs.',
     'ACT-Vancouver', 'hexaflex-van', '604 555-0112'),
    ('calgary', 'CTrain, City Hall or Centre Street stations.', 'CTrain, stations City Hall ou Centre Street.',
     'Calgary Parking lots along 9 Avenue SE.', 'Stationnements de Calgary Parking le long de la 9 Avenue SE.',
     'Hyatt Regency Calgary, connected by the +15 walkway.', 'Hyatt Regency Calgary, relié par la passerelle +15.',
     'Stephen Avenue, a two-minute walk.', 'Stephen Avenue, à deux minutes à pied.',
     'Step-free access from the +15 walkway; elevators.', 'Accès sans marche par la passerelle +15, ascenseurs.',
     'ACT-Calgary', 'hexaflex-yyc', '403 555-0155'),
    ('halifax', 'Halifax Transit routes 1 and 7, Argyle Street.', 'Lignes 1 et 7 d’Halifax Transit, rue Argyle.',
     'Scotia Square parkade, a five-minute walk.', 'Stationnement Scotia Square, à cinq minutes à pied.',
     'Sutton Place Hotel, connected to the centre.', 'Sutton Place Hotel, relié au centre.',
     'Argyle Street, right outside.', 'La rue Argyle, juste devant.',
     'Step-free entrance on Argyle Street; elevators.', 'Entrée sans marche rue Argyle, ascenseurs.',
     'ACT-Halifax', 'hexaflex-hfx', '902 555-0188')
) AS f(city, transit_en, transit_fr, parking_en, parking_fr, hotels_en, hotels_fr, restaurants_en, restaurants_fr,
       accessibility_en, accessibility_fr, wifi_network, wifi_password, emergency_phone)
JOIN cities c ON c.slug = f.city
JOIN venues v ON v.city_id = c.id
ON CONFLICT (venue_id) DO NOTHING;
