"""Test data and credentials for scripts/schemathesis.

    setup.py BASE_URL CONFIG_OUT PSQL_DB ADMIN_EMAIL ADMIN_PASSWORD

Against the freshly started, demo-seeded server:
  * logs in to the back office (POST /api/v1/admin/login) and keeps the `admin_session` and `csrf`
    cookies and the CSRF token, sent with every request (`[headers]` of the generated config);
  * makes real data: bookings of one buyer on the demo dates (some cancelled, hence erasable), a
    sacrificial sold-out date with a waiting list, a sacrificial sales tax;
  * reads the real ids from the database (psql) and writes a schemathesis.toml whose dictionaries
    feed them to the generator (with a probability, so invalid values are still tried).

Destructive operations (cancel a date, close its day, close its sales, delete a sales tax, remove a
waiting-list entry) only get the sacrificial ids, so they do not wreck the data the other
operations need to reach their 2xx answers.
"""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from http.cookies import SimpleCookie

base, config_path, psql_db, admin_email, admin_password = sys.argv[1:6]
BUYER = "marie.tremblay@example.ca"
cookies: dict[str, str] = {}
csrf_token = ""


def call(method, path, body=None, admin=False):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if admin:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        headers["X-CSRF-Token"] = csrf_token
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req) as r:
            raw, status, hdrs = r.read(), r.status, r.headers
    except urllib.error.HTTPError as e:
        raw, status, hdrs = e.read(), e.code, e.headers
    for header in hdrs.get_all("Set-Cookie") or []:
        for name, morsel in SimpleCookie(header).items():
            cookies[name] = morsel.value
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def sql(query):
    """Rows of a query, as lists of strings (psql unaligned, tab-separated)."""
    run = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", psql_db, "-c", query],
                         capture_output=True, text=True)
    if run.returncode:
        sys.exit(f"psql: {run.stderr.strip()}\n{query}")
    out = run.stdout
    return [line.split("\t") for line in out.splitlines() if line]


def column(query, cast=int):
    return [cast(row[0]) for row in sql(query)]


def book(city_event_id, quantity=1, email=BUYER, first="Marie", last="Tremblay"):
    status, b = call("POST", "/api/v1/bookings/create", {
        "city_event_id": city_event_id, "quantity": quantity, "act_experience": "none", "language": "fr",
        "buyer": {"first_name": first, "last_name": last, "email": email, "phone": "+1 514 555 0199"}})
    if status != 201:
        print(f"  booking on {city_event_id} refused: {status} {b}")
        return None
    return b["reference"]


# -- the back office session ---------------------------------------------------------------------
status, session = call("POST", "/api/v1/admin/login", {"email": admin_email, "password": admin_password})
if status != 200 or "admin_session" not in cookies or "csrf" not in cookies:
    sys.exit(f"admin login failed: {status} {session} (cookies: {sorted(cookies)})")
csrf_token = session["csrf_token"]
status, _ = call("GET", "/api/v1/admin/session", admin=True)
assert status == 200, f"GET /api/v1/admin/session with the new session: {status}"

# -- real data ------------------------------------------------------------------------------------
demo_dates = column("SELECT id FROM city_events ORDER BY id")

# Sacrificial dates (through the back office API, so the server's city-event actors know them),
# 2 seats each, in the first demo city: the only ids the destructive date operations get.
#  * the first is sold out (two bookings of 1 seat) and has a waiting list of three; one booking
#    is then cancelled, so the first person waiting gets an offer (its token, from the mail in the
#    outbox, feeds /waiting-list/offers/{token}) and two stay waiting (removable);
#  * the second keeps one booking for the date cancellation to cancel;
#  * the third is cancelled here, so GET .../cancellation has one to show.
city_id, venue_id = sql(f"SELECT city_id, venue_id FROM city_events WHERE id = {demo_dates[0]}")[0]
sacrificial_dates = []
for day in ("2027-10-04", "2027-10-05", "2027-10-06"):
    status, created = call("POST", "/api/v1/admin/city-events", {"city_id": int(city_id), "venue_id": int(venue_id),
        "local_start": f"{day}T09:00", "local_end": f"{day}T16:30", "capacity": 2, "regular_price_cents": 49500,
        "status": "on_sale"}, admin=True)
    if status != 201:
        sys.exit(f"POST /api/v1/admin/city-events: {status} {created}")
    sacrificial_dates.append(created["id"])
sold_out = [book(sacrificial_dates[0]), book(sacrificial_dates[0])]
book(sacrificial_dates[1], quantity=1)
book(sacrificial_dates[2], quantity=1)
for i, who in enumerate(["Louis", "Chloé", "Émile"]):
    status, joined = call("POST", "/api/v1/waiting-list", {"city_event_id": sacrificial_dates[0], "first_name": who,
        "last_name": "Gagnon", "email": f"attente{i}@example.ca", "language": "fr"})
    if status != 201:
        print(f"  waiting list join refused: {status} {joined}")
if sold_out[0]:
    call("POST", f"/api/v1/bookings/{sold_out[0]}/cancel", {"email": BUYER})
status, cancelled = call("POST", f"/api/v1/admin/city-events/{sacrificial_dates[2]}/cancel",
                         {"reason_fr": "Essai", "reason_en": "Test"}, admin=True)
if status != 200:
    print(f"  date cancellation refused: {status} {cancelled}")
cancelled_dates = sacrificial_dates[2:] if status == 200 else []


def offer_tokens(outbox, wait=15.0):
    """The claim tokens of the waiting-list offer mails written to the outbox (sent by a job)."""
    import email, glob, re, time, urllib.parse
    deadline = time.monotonic() + wait
    while True:
        tokens = set()
        for path in glob.glob(os.path.join(outbox, "*waitlist_offer*")):
            for part in email.message_from_bytes(open(path, "rb").read()).walk():
                payload = part.get_payload(decode=True)
                if payload:
                    text = urllib.parse.unquote(urllib.parse.unquote(payload.decode(errors="replace")))
                    tokens.update(re.findall(r"token=([0-9a-f]{32}\.\d+\.[0-9A-Za-z_-]+)", text))
        if tokens or time.monotonic() > deadline:
            return sorted(tokens)
        time.sleep(0.5)


# A sacrificial sales tax (a province without any date), the only id DELETE /sales-taxes/{id} gets.
status, tax = call("POST", "/api/v1/admin/sales-taxes", {"province": "YT", "code": "PST", "label_en": "Test tax",
    "label_fr": "Taxe d'essai", "rate_per_100k": 1000, "registration_number": "000000000 RT0001", "position": 9}, admin=True)
if status not in (200, 201):
    sys.exit(f"POST /api/v1/admin/sales-taxes: {status} {tax}")
sacrificial_taxes = [tax["id"]]

# Bookings of one buyer on the demo dates (three per date, some of 2 seats): one in three is
# cancelled by its buyer (so it can be erased), one in three paid with the Stripe stand-in's test
# card (confirmed: resend, refund, move), the rest stay held.
for i, ce in enumerate(demo_dates * 3):
    ref = book(ce, quantity=1 + i % 4 // 3)
    if not ref:
        continue
    if i % 3 == 1:
        call("POST", f"/api/v1/bookings/{ref}/cancel", {"email": BUYER})
    elif i % 3 == 2:
        call("POST", "/api/v1/payments/create-intent", {"reference": ref, "email": BUYER})
        status, paid = call("POST", "/api/v1/payments/test-card", {"reference": ref, "email": BUYER,
                                                                  "card_number": "4242 4242 4242 4242"})
        if status != 200:
            print(f"  test card payment of {ref} refused: {status} {paid}")

ids = {
    "references": sql("SELECT reference FROM bookings ORDER BY id"),
    "city_events": demo_dates,  # not the sacrificial ones: they may be cancelled any time
    "sacrificial_city_events": sacrificial_dates[:2],
    "cancelled_city_events": cancelled_dates,
    "offer_tokens": offer_tokens(os.environ["EMAIL_OUTBOX_DIR"]) if os.environ.get("EMAIL_OUTBOX_DIR") else [],
    "masterclasses": column("SELECT id FROM masterclass_events ORDER BY id"),
    "cities": column("SELECT id FROM cities ORDER BY id"),
    "venues": column("SELECT id FROM venues ORDER BY id"),
    "sales_taxes": column("SELECT id FROM sales_taxes ORDER BY id"),
    "sacrificial_sales_taxes": sacrificial_taxes,
    "promo_codes": column("SELECT id FROM promo_codes ORDER BY id"),
    "promo_code_codes": column("SELECT code FROM promo_codes ORDER BY id", str),
    "attendees": column("SELECT id FROM attendees ORDER BY id"),
    "waitlist_entries": column("SELECT id FROM waitlist_entries WHERE status = 'waiting' ORDER BY id"),
    "emails": [BUYER],
}
ids["references"] = [r[0] for r in ids["references"]]
print("  " + ", ".join(f"{len(v)} {k}" for k, v in ids.items()))
for key in ("references", "city_events", "masterclasses", "venues", "attendees"):
    if not ids[key]:
        sys.exit(f"no {key} in the database: the test data could not be made")

q = lambda values: "[" + ", ".join(json.dumps(v) for v in values) + "]"
P = 0.8  # share of the generated values taken from a dictionary (the rest stays random)


def bind(dictionary, p=P):
    return f'{{ dictionary = "{dictionary}", probability = {p} }}'


def operation(name_regex, **params):
    """An `[[operations]]` entry binding parameters of the operations whose name ("METHOD /path")
    matches. The regexes do not overlap: one entry per operation."""
    lines = ["[[operations]]", f"include-name-regex = {json.dumps(name_regex)}", "[operations.parameters]"]
    lines += [f'"{k.replace("__", ".")}" = {v}' for k, v in params.items()]
    return "\n".join(lines) + "\n"


with open(config_path, "w") as f:
    f.write("# Generated by tools/schemathesis/setup.py for one run of scripts/schemathesis.\n\n")
    # The back office session, on every request (the public API ignores it).
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    f.write(f"[headers]\nCookie = {json.dumps(cookie)}\nX-CSRF-Token = {json.dumps(csrf_token)}\n\n")
    for name, values in ids.items():
        if values:
            f.write(f"[dictionaries.{name}]\nvalues = {q(values)}\n")
    # Names that mean the same thing everywhere.
    f.write(f"""
[parameters]
"path.reference" = {bind("references")}
"body.reference" = {bind("references")}
"query.email" = {bind("emails", 0.5)}
"body.email" = {bind("emails", 0.5)}
"path.city_event_id" = {bind("city_events")}
"query.city_event_id" = {bind("city_events")}
"body.city_event_id" = {bind("city_events")}
"body.attendee_id" = {bind("attendees")}
"body.masterclass_event_id" = {bind("masterclasses")}
"body.city_id" = {bind("cities")}
"body.venue_id" = {bind("venues")}
"body.code" = {bind("promo_code_codes", 0.5)}
"body.promo_code" = {bind("promo_code_codes", 0.5)}

""")
    # `{id}` means a different thing on each resource.
    sacrificial_events = bind("sacrificial_city_events")
    f.write(operation(r"/admin/city-events/\{id\}/(cancel|close-day|close-sales|waiting-list)$", path__id=sacrificial_events))
    entries = {"path__entry_id": bind("waitlist_entries")} if ids["waitlist_entries"] else {}
    f.write(operation(r"/admin/city-events/\{id\}/waiting-list/\{entry_id\}$", path__id=sacrificial_events, **entries))
    if cancelled_dates:
        f.write(operation(r"/admin/city-events/\{id\}/cancellation$", path__id=bind("cancelled_city_events")))
    if ids["offer_tokens"]:
        f.write(operation(r"/waiting-list/offers/\{token\}", path__token=bind("offer_tokens")))
    f.write(operation(r"/admin/city-events/\{id\}(/(open-sales|attendees\.csv|feedback|broadcasts|broadcasts/preview))?$",
                      path__id=bind("city_events")))
    f.write(operation(r"/admin/masterclasses/\{id\}", path__id=bind("masterclasses")))
    f.write(operation(r"/admin/cities/\{id\}$", path__id=bind("cities")))
    f.write(operation(r"/admin/venues/\{id\}", path__id=bind("venues")))
    f.write(operation(r"^(GET|PUT) /api/v1/admin/sales-taxes/\{id\}$", path__id=bind("sales_taxes")))
    f.write(operation(r"^DELETE /api/v1/admin/sales-taxes/\{id\}$", path__id=bind("sacrificial_sales_taxes")))
    f.write(operation(r"/admin/promo-codes/\{id\}", path__id=bind("promo_codes")))
print(f"  wrote {config_path}")
