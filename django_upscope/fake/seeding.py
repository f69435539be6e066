"""Deterministic, realistic visitors for the fake (``state.seed`` and ``upscope_fake_seed``).

The same ``seed`` gives the same visitors, sessions and agents: every choice
comes from ``random.Random(seed)`` and timestamps are offsets from ``anchor``
(a fixed moment unless one is given). Rows are written with ``bulk_create``
so ten thousand visitors take seconds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from typing import Any, cast

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max

from .ids import new_short_ids
from .models import FakeAgent, FakeSession, FakeSessionAgent, FakeVisitor, derived_columns

FIXED_ANCHOR = dt.datetime(2025, 1, 15, 14, 30, tzinfo=dt.timezone.utc)
BATCH_SIZE = 500

FIRST_NAMES = (
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Amelia",
    "Oliver",
    "Ava",
    "Elijah",
    "Sophia",
    "Lucas",
    "Mia",
    "Mateo",
    "Isabella",
    "Hugo",
    "Chloé",
    "Léa",
    "Jonas",
    "Sofía",
    "Aarav",
    "Priya",
    "Yuki",
    "Haruto",
    "Ingrid",
    "Lars",
    "Fatima",
    "Omar",
    "Zanele",
    "Kwame",
    "Ana",
    "João",
    "Giulia",
    "Marco",
    "Anna",
    "Jakub",
    "Nadia",
    "Tomás",
    "Chen",
    "Mei",
    "Aisha",
    "Diego",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Garcia",
    "Martin",
    "Müller",
    "Rossi",
    "Silva",
    "Kowalski",
    "Tanaka",
    "Nguyen",
    "Patel",
    "Okafor",
    "Dubois",
    "Jensen",
    "Andersson",
    "Fernández",
    "O'Brien",
    "Kim",
    "Chen",
    "Ivanova",
    "Haddad",
    "Mensah",
    "Costa",
    "Novak",
    "Schmidt",
    "Lopez",
    "Brown",
    "Wilson",
    "Moreau",
    "Bianchi",
)
EMAIL_DOMAINS = (
    "gmail.com",
    "outlook.com",
    "acme-corp.com",
    "example.org",
    "fastmail.fm",
    "globex.io",
    "initech.co",
    "yahoo.co.uk",
)
# (country code, country name as Upscope writes it, cities, UTC offset minutes, IP prefix)
PLACES: tuple[tuple[str, str, tuple[str, ...], int, str], ...] = (
    (
        "US",
        "united states",
        ("New York, NY", "Austin, TX", "San Francisco, CA", "Chicago, IL"),
        -300,
        "23.94",
    ),
    ("GB", "united kingdom", ("London", "Manchester", "Edinburgh"), 0, "81.2"),
    ("DE", "germany", ("Berlin", "Munich", "Hamburg"), 60, "85.214"),
    ("FR", "france", ("Paris", "Lyon", "Bordeaux"), 60, "90.84"),
    ("ES", "spain", ("Madrid", "Barcelona", "Valencia"), 60, "83.45"),
    ("IT", "italy", ("Milan", "Rome", "Turin"), 60, "93.63"),
    ("BR", "brazil", ("São Paulo", "Rio de Janeiro"), -180, "177.12"),
    ("IN", "india", ("Bengaluru", "Mumbai", "Delhi"), 330, "49.36"),
    ("JP", "japan", ("Tokyo", "Osaka"), 540, "126.21"),
    ("AU", "australia", ("Sydney", "Melbourne"), 660, "1.120"),
    ("CA", "canada", ("Toronto, ON", "Vancouver, BC", "Montreal, QC"), -300, "24.114"),
    ("NG", "nigeria", ("Lagos", "Abuja"), 60, "105.112"),
    ("SE", "sweden", ("Stockholm", "Gothenburg"), 60, "78.72"),
    ("PL", "poland", ("Warsaw", "Kraków"), 60, "83.26"),
)
# (device_type, device_name, browser_name, weight)
DEVICES: tuple[tuple[str, str | None, str, int], ...] = (
    ("desktop", None, "Chrome 131", 30),
    ("desktop", None, "Firefox 133", 8),
    ("desktop", None, "Safari 18", 8),
    ("desktop", None, "Edge 131", 8),
    ("mobile", "iPhone", "Mobile Safari 18", 14),
    ("mobile", "Pixel 8", "Chrome Mobile 131", 6),
    ("mobile", "Galaxy S24", "Samsung Internet 26", 5),
    ("tablet", "iPad", "Mobile Safari 18", 5),
    ("tablet", "Galaxy Tab S9", "Chrome 131", 2),
    ("smarttv", "Samsung Smart TV", "Tizen Browser 6", 1),
)
INTEGRATIONS = (
    "intercom",
    "zendesk",
    "drift",
    "crisp",
    "livechat",
    "helpscout",
    "hubspot",
    "freshchat",
)
TAGS = (
    "#customer",
    "#trial",
    "#vip",
    "#enterprise",
    "#churn-risk",
    "#beta",
    "#onboarding",
    "#billing",
    "#mobile-app",
    "#partner",
)
SITES = ("https://shop.example.com", "https://app.example.com", "https://www.example.com")
PAGES = (
    ("/", "Home"),
    ("/pricing", "Pricing"),
    ("/checkout", "Checkout"),
    ("/checkout/payment", "Payment"),
    ("/account/settings", "Account settings"),
    ("/account/billing", "Billing"),
    ("/products/42", "Product 42"),
    ("/products/7", "Product 7"),
    ("/cart", "Your cart"),
    ("/help/getting-started", "Getting started"),
    ("/dashboard", "Dashboard"),
    ("/onboarding/step-2", "Onboarding"),
    ("/search?q=blue+shoes", "Search"),
)
# Team members using the Upscope app, and agents created through the REST API.
AGENT_POOL: tuple[tuple[str, str | None, str], ...] = (
    ("Alex Rivera", None, "agent"),
    ("Jamie Chen", None, "agent"),
    ("Sam Okoye", "support-17", "external_agent"),
    ("Morgan Lee", "support-23", "external_agent"),
    ("Priya Nair", "support-31", "external_agent"),
    ("Tom Becker", "support-42", "external_agent"),
    ("Lucía Gómez", None, "agent"),
    ("Ravi Kumar", "support-58", "external_agent"),
)
FEATURES = ("click", "scroll", "draw", "type", "audio", "agent_redirect", "console")


def _agents() -> list[FakeAgent]:
    agents = []
    for name, identifier, kind in AGENT_POOL:
        if identifier is None:
            agent = FakeAgent.objects.filter(type=kind, name=name).order_by("id").first()
            agent = agent or FakeAgent.objects.create(name=name, type=kind)
        else:
            agent, _ = FakeAgent.objects.get_or_create(
                type=kind, agent_identifier=identifier, defaults={"name": name}
            )
        agents.append(agent)
    return agents


def _history(rng: random.Random, site: str, last_seen: dt.datetime) -> dict[str, Any]:
    pageviews = []
    moment = last_seen - dt.timedelta(minutes=rng.randint(5, 90))
    for path, title in rng.sample(PAGES, rng.randint(2, 6)):
        pageviews.append({"url": site + path, "title": title, "viewed_at": _z(moment)})
        moment += dt.timedelta(seconds=rng.randint(10, 600))
    screenshots = [
        {
            "url": page["url"],
            "taken_at": page["viewed_at"],
            "width": rng.choice((1280, 1440, 1920, 390)),
            "height": rng.choice((720, 800, 1080, 844)),
        }
        for page in pageviews[: rng.randint(0, 2)]
    ]
    return {"pageviews": pageviews, "screenshots": screenshots}


def _z(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _insert(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """INSERT plain rows with ``executemany``: ``bulk_create`` without building instances.

    Seeding writes tens of thousands of rows; Django's per-instance work is
    most of ``bulk_create``'s time. Only datetimes and JSON need adapting.
    """
    if not rows:
        return
    names = list(rows[0])
    fields = [cast("models.Field[Any, Any]", model._meta.get_field(name)) for name in names]
    adapt = [isinstance(f, (models.DateTimeField, models.JSONField)) for f in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    # Table and column names come from the model's metadata, quoted; values are parameters.
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH_SIZE):
            cursor.executemany(
                sql,
                [
                    tuple(
                        field.get_db_prep_save(row[name], connection) if needs else row[name]
                        for name, field, needs in zip(names, fields, adapt, strict=True)
                    )
                    for row in rows[start : start + BATCH_SIZE]
                ],
            )


@dataclasses.dataclass
class _Rows:
    """The rows of one seeding run, written at the end with :func:`_insert`."""

    next_session_id: int
    visitors: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    sessions: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    crews: list[dict[str, Any]] = dataclasses.field(default_factory=list)


DEVICE_WEIGHTS = [device[3] for device in DEVICES]


def _person(
    rng: random.Random, first: str, last: str, seed: int, index: int
) -> tuple[list[str] | None, str | None]:
    """Most visitors are identified (a name and an e-mail address), many by a unique id."""
    if rng.random() >= 0.75:
        return None, None
    slug = f"{first}.{last}".lower().replace("'", "").encode("ascii", "ignore").decode()
    suffix = rng.randint(1, 99) if rng.random() < 0.3 else ""
    identities = [f"{first} {last}", f"{slug}{suffix}@{rng.choice(EMAIL_DOMAINS)}"]
    unique_id = f"user_{seed}_{index + 1}" if rng.random() < 0.85 else None
    return identities, unique_id


def _visitor_row(
    rng: random.Random, short_id: str, index: int, seed: int, anchor: dt.datetime
) -> dict[str, Any]:
    """One visitor's row; the order of ``rng`` calls is what makes a seed reproducible."""
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    country, country_name, cities, offset, ip_prefix = rng.choice(PLACES)
    device_type, device_name, browser, _ = rng.choices(DEVICES, DEVICE_WEIGHTS)[0]
    online = rng.random() < 0.2
    if online:
        last_seen = anchor - dt.timedelta(seconds=rng.randint(0, 120))
    else:
        last_seen = anchor - dt.timedelta(minutes=rng.randint(3, 60 * 24 * 45))
    first_seen = last_seen - dt.timedelta(hours=rng.randint(0, 24 * 200))
    identities, unique_id = _person(rng, first, last, seed, index)
    integration = rng.choice(INTEGRATIONS) if rng.random() < 0.5 else None
    integration_ids = {integration: str(rng.randint(10000, 999999))} if integration else {}
    site = rng.choice(SITES)
    tags = sorted(rng.sample(TAGS, rng.choice((0, 0, 1, 1, 2, 3))))
    last_url = site + rng.choice(PAGES)[0]
    return {
        "short_id": short_id,
        "api_key": "fake_public_key",
        "identities": identities,
        "unique_id": unique_id,
        "lookup_code": f"{rng.randint(0, 9999):04d}" if rng.random() < 0.4 else None,
        "tags": tags,
        "integration": integration,
        "integration_ids": integration_ids,
        "device_type": device_type,
        "device_name": device_name,
        "browser_name": browser,
        "ip_address": f"{ip_prefix}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        "location_city": rng.choice(cities) if rng.random() < 0.9 else None,
        "location_country": country,
        "location_country_name": country_name,
        "utc_offset_minutes": offset,
        "is_online": online,
        "is_in_session": False,
        "js_configuration": rng.random() < 0.1,
        "first_seen_at": first_seen,
        "last_seen_at": last_seen,
        "last_url": last_url,
        "history": _history(rng, site, last_seen) if rng.random() < 0.3 else None,
        **derived_columns(
            short_id=short_id,
            identities=identities,
            unique_id=unique_id,
            last_url=last_url,
            tags=tags,
            integration_ids=integration_ids,
        ),
    }


def _add_session(
    rng: random.Random, rows: _Rows, visitor: dict[str, Any], agents: list[FakeAgent]
) -> None:
    """One past (ended) session of ``visitor``, with one agent or, now and then, two."""
    started = visitor["last_seen_at"] - dt.timedelta(minutes=rng.randint(5, 60 * 24 * 30))
    went_live = rng.random() < 0.9
    length = rng.randint(30, 2400) if went_live else rng.randint(0, 30)
    features = sorted(rng.sample(FEATURES[:5], rng.randint(0, 3))) if went_live else []
    session_id = rows.next_session_id
    rows.next_session_id += 1
    rows.sessions.append(
        {
            "id": session_id,
            "visitor": visitor["short_id"],
            "started_at": started,
            "ended_at": started + dt.timedelta(seconds=length),
            "length_seconds": length,
            "call_length_seconds": rng.randint(0, length)
            if went_live and rng.random() < 0.3
            else 0,
            "went_live": went_live,
            "features_used": features,
            "metadata": {"ticket": f"T-{rng.randint(1000, 99999)}"} if rng.random() < 0.4 else {},
            "utc_offset_minutes": visitor["utc_offset_minutes"],
        }
    )
    crew = [rng.choice(agents)]
    if rng.random() < 0.1:
        crew.append(rng.choice(agents))
    for agent in dict.fromkeys(crew):
        rows.crews.append({"session": session_id, "agent": agent.pk})


def _write(rows: _Rows) -> None:
    _insert(FakeVisitor, rows.visitors)
    _insert(FakeSession, rows.sessions)
    _insert(FakeSessionAgent, rows.crews)
    # Session ids were given explicitly: move PostgreSQL's sequence past them.
    reset = connection.ops.sequence_reset_sql(no_style(), [FakeSession])
    if reset:
        with connection.cursor() as cursor:
            for statement in reset:
                cursor.execute(statement)


def seed_visitors(
    count: int,
    seed: int = 0,
    *,
    anchor: dt.datetime | None = None,
    sessions: int | None = None,
) -> list[str]:
    """Create ``count`` visitors and their past sessions; return their short_ids.

    Each visitor gets ``sessions`` past sessions, or 0-5 at random when None.
    """
    if count < 0:
        raise ValueError("the number of visitors must be >= 0")
    if sessions is not None and sessions < 0:
        raise ValueError("the number of sessions must be >= 0")
    rng = random.Random(seed)
    anchor = anchor or FIXED_ANCHOR
    with transaction.atomic():
        agents = _agents()
        taken = set(FakeVisitor.objects.values_list("short_id", flat=True))
        short_ids = new_short_ids(count, taken=taken, choose=rng.choice)
        rows = _Rows(next_session_id=(FakeSession.objects.aggregate(top=Max("id"))["top"] or 0) + 1)
        for index, short_id in enumerate(short_ids):
            visitor = _visitor_row(rng, short_id, index, seed, anchor)
            rows.visitors.append(visitor)
            how_many = rng.choice((0, 0, 1, 2, 3, 4, 5)) if sessions is None else sessions
            for _ in range(how_many):
                _add_session(rng, rows, visitor, agents)
        _write(rows)
    return short_ids
