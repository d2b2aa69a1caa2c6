"""Build a large, believable agency on PostgreSQL for the benchmark: clients, contacts, partners, the timeline,
requests and contracts, written with COPY in a few minutes.

    python bench/generate.py --clients 20000 --contacts-per-client 3 --activities 500000 --requests 20000 \\
        --partners 300 --contracts 100000 [--reset] [--seed 2026] [--allow-sqlite]

Generated rows are recognisable by their tax codes (clients 999xxxxxxx, partners 998xxxxxxx) and contract numbers
(BENCH-xxxxxxx, on generated clients only): --reset deletes those and what hangs off them, nothing else. Owners are
the demo account managers (seed_demo runs first); a share of the open deals belongs to the demo sales people.
Run again at the same size, it says so and does nothing; at another size it asks for --reset, except when only the
number of contracts differs: then it replaces the generated contracts and leaves the rest.
"""

import argparse
import os
import random
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import IntegerField, Max, Q  # noqa: E402
from django.db.models.functions import Cast, Substr  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from clients.models import (  # noqa: E402
    OPEN_REQUEST_STATUSES,
    Activity,
    Client,
    Contact,
    Handover,
    Partner,
    PartnerRelationship,
    Request,
    Tag,
)
from clients.sla import sla_deadlines  # noqa: E402
from clients.text import fold, search_text  # noqa: E402
from contracts.billing import totals as invoice_sums  # noqa: E402
from contracts.billing.services import invoice_totals  # noqa: E402
from contracts.models import (  # noqa: E402
    DEFAULT_PROBABILITY,
    BudgetAlert,
    CollectionNotice,
    CollectionPause,
    CollectionStep,
    Contract,
    CostEntry,
    Invoice,
    InvoiceEvent,
    InvoiceNumber,
    NegotiationRound,
    Payment,
    Phase,
    RenewalReminder,
    StageChange,
    WriteOffRequest,
)
from core.history import history_paused  # noqa: E402
from kpis import ledger  # noqa: E402

CLIENT_TAX_PREFIX = "999"
PARTNER_TAX_PREFIX = "998"
HISTORY = timedelta(days=730)  # the timeline and requests cover two years
CONTRACT_NUMBER_PREFIX = "BENCH-"


def words(text: str) -> list[str]:
    return text.split()


BRAND_FIRST = words(
    "An Bảo Bình Đại Đông Gia Hải Hòa Hoàng Hồng Hưng Kim Minh Nam Phú Phúc Phương Quang Sao Tân Thái "
    "Thành Thiên Tiến Trường Vạn Việt Ánh Tâm Hương Lạc Sông Trí Đức Toàn Thịnh Mai Cát Vĩnh Hiệp"
)
BRAND_SECOND = words(
    "Phát Thịnh Long Khang Việt Minh Mai Sơn Hà Á Nam Lộc Tín Dương Phong Hưng Thành An Quý Xuân Đức Huy "
    "Tường Thuận Anh Bình Châu Linh Vinh Hải Lợi Tiến Hòa Nguyên Kim Phú"
)
FAMILY_BRANDS = ["Nguyễn Kim", "Nguyễn Gia", "Nguyễn Hoàng", "Trần Anh", "Trần Gia", "Lê Minh", "Phạm Gia"]
SECTORS = {
    "fmcg": ["Foods", "Beverage", "Consumer", "Dairy", "Thực phẩm"],
    "banking": ["Bank", "Finance", "Securities", "Insurance"],
    "real_estate": ["Land", "Realty", "Homes", "Địa ốc"],
    "ecommerce": ["Mart", "Retail", "Shop", "Store"],
    "telecom": ["Telecom", "Mobile", "Net"],
    "technology": ["Tech", "Software", "Digital", "Công nghệ"],
    "automotive": ["Auto", "Motors", "Ô tô"],
    "healthcare": ["Pharma", "Medical", "Clinic", "Dược phẩm"],
    "education": ["Academy", "Education", "English"],
    "hospitality": ["Hotels", "Travel", "Resort", "Du lịch"],
    "other": ["Group", "Trading", "Holdings", "Logistics"],
}
QUALIFIERS = ["", "", "", "Group", "Việt Nam", "International", "Holdings", "Miền Bắc", "Miền Nam", "Plus", "Express"]
CITIES = [
    ("TP. Hồ Chí Minh", 30),
    ("Hà Nội", 30),
    ("Đà Nẵng", 8),
    ("Hải Phòng", 6),
    ("Cần Thơ", 5),
    ("Bình Dương", 7),
    ("Đồng Nai", 5),
    ("Nha Trang", 3),
    ("Huế", 3),
    ("Quảng Ninh", 3),
]
# Family names with roughly their share in Viet Nam: searching "nguyen" finds many, as it does in real life.
FAMILY_NAMES = [
    ("Nguyễn", 38),
    ("Trần", 11),
    ("Lê", 9),
    ("Phạm", 7),
    ("Hoàng", 5),
    ("Huỳnh", 4),
    ("Phan", 4),
    ("Vũ", 4),
    ("Võ", 3),
    ("Đặng", 2),
    ("Bùi", 2),
    ("Đỗ", 2),
    ("Hồ", 2),
    ("Ngô", 2),
    ("Dương", 1),
    ("Lý", 1),
]
MIDDLE_NAMES = ["Văn", "Thị", "Minh", "Đức", "Ngọc", "Thu", "Quốc", "Thanh", "Hồng", "Gia", "Hữu", "Thùy", "Anh"]
GIVEN_NAMES = words(
    "An Anh Bảo Bình Châu Chi Dũng Dung Duy Giang Hà Hải Hạnh Hiếu Hoa Hòa Hùng Hương Huy Khánh Khoa Lan "
    "Linh Long Mai Minh My Nam Nga Ngân Nhung Phong Phúc Phương Quân Quang Sơn Tâm Thảo Thắng Thanh Trang "
    "Trung Tú Tuấn Uyên Vân Việt Vy Yến"
)
TITLES = [
    "Giám đốc Marketing",
    "Brand Manager",
    "Trưởng phòng Truyền thông",
    "CMO",
    "Kế toán trưởng",
    "Trade Marketing Manager",
    "Digital Lead",
    "Giám đốc điều hành",
    "Chuyên viên mua hàng",
    "PR Executive",
]
SUBJECTS = {
    "call": ["Gọi trao đổi về brief", "Call about the Tết campaign", "Gọi xác nhận lịch quay", "Follow-up call"],
    "meeting": ["Họp review kế hoạch quý", "Kick-off meeting", "Họp báo cáo hiệu quả", "Workshop brand strategy"],
    "email": ["Gửi báo giá sản xuất", "Sent the revised media plan", "Email xác nhận KPI", "Sent the recap deck"],
    "note": ["Khách hàng đổi người phụ trách", "Budget cut expected next quarter", "Ghi chú sau sự kiện"],
    "status_report": ["Báo cáo tuần", "Monthly status report", "Báo cáo hiệu quả chiến dịch"],
}
NEXT_STEPS = ["Gửi proposal", "Send revised media plan", "Hẹn lịch họp review", "Chốt ngân sách Q tới", "Send invoice"]
REQUEST_TITLES = [
    "Brief chiến dịch Tết",
    "Change the KV colours",
    "Sửa caption bài đăng",
    "Website down after the launch",
    "Báo giá in ấn POSM",
    "Question about the media invoice",
    "Thêm KOL cho chiến dịch",
    "New TVC cut-down 15s",
]
ROLES = ["Nhà tài trợ sự kiện", "Media buying", "Production", "Tư vấn chiến lược", "KOL management", "In ấn"]
PARTNER_WORDS = ["Media", "Production", "Studio", "Events", "Print", "Consulting", "Creative", "Digital", "Outdoor"]
TAG_NAMES = ["Key account", "Retainer", "Tết campaign", "Pitching", "Digital", "OOH", "Event", "Global brand"]
PARTNER_KINDS = ["sponsor", "consultant", "supplier", "production_house", "media_vendor", "other"]


@dataclass(frozen=True)
class Sizes:
    clients: int
    contacts: int
    activities: int
    requests: int
    partners: int
    contracts: int = 0
    invoices: int = 0
    payments: int = 0


@dataclass(frozen=True)
class GeneratedClient:
    id: int
    owner_id: int
    created_at: datetime
    contact_ids: tuple[int, ...]


# --- Writing rows --------------------------------------------------------------------------------------------


def write_rows(model, columns: list[str], rows: Iterable[tuple]) -> int:
    """COPY the rows into the model's table on PostgreSQL, executemany elsewhere; the number written.

    ``rows`` may be a generator, but must not query the database: the connection is busy with the COPY.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    written = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
            return written
        placeholders = ", ".join(["%s"] * len(columns))
        batch = []
        for row in rows:
            batch.append(tuple(_adapt(value) for value in row))
            if len(batch) == 5000:
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", batch)  # noqa: S608
                written, batch = written + len(batch), []
        if batch:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", batch)  # noqa: S608
        return written + len(batch)


def _adapt(value):
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def reserve_ids(model, count: int) -> list[int]:
    """Primary keys for rows written with COPY, so their children can point at them before they exist."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        start = cursor.fetchone()[0] + 1
        return list(range(start, start + count))


@contextmanager
def step(label: str) -> Iterator[None]:
    print(f"  {label:<44}", end="", flush=True)
    started = time.perf_counter()
    yield
    print(f"{time.perf_counter() - started:7.1f} s")


# The tables whose writes PostgreSQL's triggers add to the pre-summed figures (contracts/models/totals.py,
# kpis/ledger.py): row by row they would cost millions of upserts here, so they pause and the sums are recomputed.
SUMMED_TABLES = ("contracts_invoice", "contracts_payment", "contracts_contract", "clients_client")


@contextmanager
def pre_summed_paused() -> Iterator[None]:
    """The pre-summed figures' triggers off while rows are written by the hundred thousand, the figures recomputed
    from the rows once after. A run that dies in between leaves them off: the next run turns them back on first."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        for table in SUMMED_TABLES:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    try:
        yield
    finally:
        resume_pre_summed()


def resume_pre_summed() -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in SUMMED_TABLES:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    with step("pre-summed invoice totals and KPI ledger"):
        invoice_sums.rebuild()
        ledger.rebuild()


# --- What is already there -----------------------------------------------------------------------------------


def generated_clients():
    return Client.objects.filter(tax_code__startswith=CLIENT_TAX_PREFIX)


def generated_partners():
    return Partner.objects.filter(tax_code__startswith=PARTNER_TAX_PREFIX)


def present_sizes() -> Sizes:
    clients = generated_clients().values("pk")
    return Sizes(
        clients=clients.count(),
        contacts=Contact.objects.filter(client__in=clients).count(),
        activities=Activity.objects.filter(client__in=clients).count(),
        requests=Request.objects.filter(client__in=clients).count(),
        partners=generated_partners().count(),
        contracts=generated_contracts().count(),
        invoices=generated_invoices().count(),
        payments=Payment.objects.filter(invoice__in=generated_invoices().values("pk")).count(),
    )


def generated_contracts():
    return Contract.objects.filter(client__in=generated_clients().values("pk"))


def generated_invoices():
    return Invoice.objects.filter(client__in=generated_clients().values("pk"))


def delete_generated_billing() -> None:
    """The generated clients' invoices and what hangs off them (a follow-up sweep run on them too), one DELETE per
    table; then each year's invoice counter goes back to the highest number still used, so the next invoice issued
    follows on without a repeat."""
    invoices = generated_invoices().values("pk")
    with transaction.atomic():
        for model in (Payment, CollectionStep, InvoiceEvent, WriteOffRequest):
            model.objects.filter(invoice__in=invoices).delete()
        for model in (CollectionNotice, CollectionPause):
            model.objects.filter(client__in=generated_clients().values("pk")).delete()
        table = connection.ops.quote_name(Invoice._meta.db_table)
        sql, params = generated_clients().values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE client_id IN ({sql})", params)  # noqa: S608
        for counter in InvoiceNumber.objects.select_for_update():
            used = Invoice.objects.filter(number__startswith=f"INV-{counter.year}-").aggregate(
                last=Max(Cast(Substr("number", 10), IntegerField()))
            )["last"]
            InvoiceNumber.objects.filter(pk=counter.pk).update(last=used or 0)


def delete_generated_contracts() -> None:
    """What hangs off the contracts with one DELETE per table, then the contracts themselves in one statement
    (the ORM would load 100k of them to resolve ``renewal_of``, which points from contract to contract)."""
    contracts = generated_contracts().values("pk")
    with transaction.atomic():
        delete_generated_billing()  # invoices protect their contracts
        for model in (RenewalReminder, BudgetAlert, CostEntry, Phase, NegotiationRound, StageChange):
            model.objects.filter(contract__in=contracts).delete()
        table = connection.ops.quote_name(Contract._meta.db_table)
        sql, params = generated_clients().values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE client_id IN ({sql})", params)  # noqa: S608


def delete_generated() -> None:
    """Children first, each with one DELETE (so 500k activities are not loaded to null their contact), then the rest
    through the ORM, which also removes whatever else points at the generated clients."""
    clients = generated_clients().values("pk")
    requests = Request.objects.filter(client__in=clients)
    with transaction.atomic():
        delete_generated_contracts()  # contracts protect their clients
        Handover.objects.filter(request__in=requests.values("pk")).delete()
        Activity.objects.filter(client__in=clients).delete()
        requests.delete()
        PartnerRelationship.objects.filter(Q(client__in=clients) | Q(partner__in=generated_partners())).delete()
        Contact.objects.filter(client__in=clients).delete()
        generated_clients().delete()
        generated_partners().delete()


# --- Building rows -------------------------------------------------------------------------------------------


def weighted(pairs: list[tuple[str, int]]) -> tuple[list[str], list[int]]:
    return [value for value, _weight in pairs], [weight for _value, weight in pairs]


def client_name(rng: random.Random, industry: str) -> str:
    brand = (
        rng.choice(FAMILY_BRANDS) if rng.random() < 0.04 else f"{rng.choice(BRAND_FIRST)} {rng.choice(BRAND_SECOND)}"
    )
    return " ".join(part for part in (brand, rng.choice(SECTORS[industry]), rng.choice(QUALIFIERS)) if part)


def slug(text: str) -> str:
    return "".join(char for char in fold(text) if char.isalnum())


def phone(rng: random.Random) -> str:
    return f"+84 9{rng.randint(0, 9)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"


def client_rows(rng, ids, owners, now) -> Iterator[tuple]:
    industries = list(SECTORS)
    cities, city_weights = weighted(CITIES)
    for number, client_id in enumerate(ids, start=1):
        industry = rng.choice(industries)
        name = client_name(rng, industry)
        legal_name = f"Công ty {rng.choice(['Cổ phần', 'TNHH'])} {name}"
        tax_code = f"{CLIENT_TAX_PREFIX}{number:07d}"
        city = rng.choices(cities, city_weights)[0]
        owner = owners[client_id]
        created_at = now - timedelta(days=rng.uniform(20, 1100))
        status = rng.choices(["active", "prospect", "at_risk", "churned"], [55, 20, 10, 15])[0]
        yield (
            client_id, created_at, created_at, name, legal_name, tax_code, industry,
            rng.choices("ABC", [15, 45, 40])[0], status, rng.choices(["VND", "USD"], [9, 1])[0],
            rng.choice([15, 30, 30, 45, 60]), f"https://{slug(name)}{number}.example", phone(rng), city,
            f"{rng.randint(1, 300)} Đường số {rng.randint(1, 30)}, {city}", "", "",
            search_text(name, legal_name, tax_code, city), search_text(name), 1, owner.pk, owner.team_id,
        )  # fmt: skip


CLIENT_COLUMNS = [
    "id", "created_at", "updated_at", "name", "legal_name", "tax_code", "industry", "tier", "status",
    "billing_currency", "payment_terms_days", "website", "phone", "city", "address", "billing_address", "notes",
    "search_text", "search_name", "version", "owner_id", "team_id",
]  # fmt: skip


def contact_rows(rng, clients: list[GeneratedClient], domains: dict[int, str]) -> Iterator[tuple]:
    families, family_weights = weighted(FAMILY_NAMES)
    for client in clients:
        emails = set()
        for contact_id in client.contact_ids:
            family, given = rng.choices(families, family_weights)[0], rng.choice(GIVEN_NAMES)
            full_name = f"{family} {rng.choice(MIDDLE_NAMES)} {given}"
            email = f"{slug(given)}.{slug(family)}@{domains[client.id]}"
            if email in emails:
                email = email.replace("@", f"{len(emails)}@")
            emails.add(email)
            number = phone(rng)
            yield (
                contact_id, client.created_at, client.created_at, full_name, rng.choice(TITLES), email, number,
                rng.choices(["vi", "en"], [4, 1])[0], rng.random() < 0.3, rng.random() < 0.2, rng.random() < 0.5,
                "", search_text(full_name, email, number), 1, client.id,
            )  # fmt: skip


CONTACT_COLUMNS = [
    "id", "created_at", "updated_at", "full_name", "title", "email", "phone", "preferred_language",
    "is_decision_maker", "is_billing", "is_day_to_day", "notes", "search_text", "version", "client_id",
]  # fmt: skip


def client_weights(rng, count: int) -> list[float]:
    """A long tail: most clients have a handful of entries, key accounts thousands, new prospects none."""
    return [0.0 if rng.random() < 0.05 else min(rng.paretovariate(1.16), 1000.0) for _ in range(count)]


def activity_rows(rng, clients, weights, count, account_managers, now) -> Iterator[tuple]:
    kinds = list(SUBJECTS)
    today = timezone.localdate(now)
    for client in rng.choices(clients, weights, k=count):
        start = max(client.created_at, now - HISTORY)
        occurred_at = start + (now - start) * rng.random()
        author_id = client.owner_id if rng.random() < 0.8 else rng.choice(account_managers)
        kind = rng.choice(kinds)
        next_step, due, owner_id, done_at = "", None, None, None
        if rng.random() < 0.3:
            next_step, owner_id = rng.choice(NEXT_STEPS), client.owner_id
            due = timezone.localdate(occurred_at) + timedelta(days=rng.randint(1, 21))
            overdue_days = (today - due).days
            done_share = 0.97 if overdue_days > 7 else 0.6 if overdue_days >= 0 else 0.1
            if rng.random() < done_share:
                done_at = min(occurred_at + timedelta(days=rng.uniform(0.2, 20)), now)
        contact_id = rng.choice(client.contact_ids) if client.contact_ids and rng.random() < 0.6 else None
        yield (
            occurred_at, occurred_at, kind, rng.choice(SUBJECTS[kind]), "" if rng.random() < 0.5 else "Đã trao đổi.",
            occurred_at, next_step, due, done_at, author_id, owner_id, client.id, contact_id, False,
        )  # fmt: skip


ACTIVITY_COLUMNS = [
    "created_at", "updated_at", "kind", "subject", "body", "occurred_at", "next_step", "next_step_due",
    "next_step_done_at", "author_id", "next_step_owner_id", "client_id", "contact_id", "is_system",
]  # fmt: skip


def request_rows(rng, clients, weights, count, now) -> Iterator[tuple]:
    for client in rng.choices(clients, weights, k=count):
        start = max(client.created_at, now - HISTORY)
        received_at = start + (now - start) * rng.random()
        priority = rng.choices(["urgent", "high", "normal", "low"], [5, 20, 55, 20])[0]
        warning_at, due_at = sla_deadlines(received_at, priority)
        status, resolved_at, closed_at = rng.choice(OPEN_REQUEST_STATUSES), None, None
        if not still_open(rng, due_at, now):
            resolved_at = resolution_time(rng, received_at, due_at, now)
            status = "closed" if rng.random() < 0.7 else "resolved"
            closed_at = min(resolved_at + timedelta(days=rng.uniform(0, 5)), now) if status == "closed" else None
        contact_id = rng.choice(client.contact_ids) if client.contact_ids and rng.random() < 0.7 else None
        kind = rng.choices(["brief", "change", "incident", "question"], [35, 35, 10, 20])[0]
        yield (
            received_at, received_at, kind, rng.choice(REQUEST_TITLES), "", priority, status, received_at,
            warning_at, due_at, resolved_at, closed_at, None, 1, client.id, contact_id, client.owner_id,
        )  # fmt: skip


def still_open(rng, due_at: datetime, now: datetime) -> bool:
    """Most requests not yet due are open; a few past their SLA still are, fewer the older they get."""
    if now < due_at:
        return rng.random() < 0.9
    return rng.random() < (0.05 if (now - due_at).days < 30 else 0.002)


def resolution_time(rng, received_at: datetime, due_at: datetime, now: datetime) -> datetime:
    """Most requests are resolved in time; one in eight after the SLA."""
    allowed = due_at - received_at
    if rng.random() < 0.125:
        return min(due_at + allowed * rng.uniform(0.1, 2), now)
    return min(received_at + allowed * rng.uniform(0.1, 1), now)


REQUEST_COLUMNS = [
    "created_at", "updated_at", "kind", "title", "description", "priority", "status", "received_at",
    "sla_warning_at", "sla_due_at", "resolved_at", "closed_at", "breach_notified_at", "version", "client_id",
    "contact_id", "owner_id",
]  # fmt: skip


def partner_names(rng, count: int) -> list[str]:
    taken = set(Partner.objects.values_list("name", flat=True))
    names = []
    while len(names) < count:
        name = f"{rng.choice(BRAND_FIRST)} {rng.choice(BRAND_SECOND)} {rng.choice(PARTNER_WORDS)}"
        name = name if name not in taken else f"{name} {len(names) + 1}"
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names


def partner_rows(rng, ids, names, now) -> Iterator[tuple]:
    for number, (partner_id, name) in enumerate(zip(ids, names, strict=True), start=1):
        tax_code, email = f"{PARTNER_TAX_PREFIX}{number:07d}", f"contact@{slug(name)}.example"
        created_at = now - timedelta(days=rng.uniform(30, 1100))
        yield (
            partner_id, created_at, created_at, name, rng.choice(PARTNER_KINDS), tax_code,
            f"https://{slug(name)}.example", email, phone(rng), "", search_text(name, tax_code, email),
        )  # fmt: skip


PARTNER_COLUMNS = [
    "id", "created_at", "updated_at", "name", "kind", "tax_code", "website", "email", "phone", "notes", "search_text",
]  # fmt: skip


def relationship_rows(rng, clients, partner_ids, now) -> Iterator[tuple]:
    if not partner_ids:
        return
    for client in clients:
        for partner_id in rng.sample(
            partner_ids, k=min(len(partner_ids), rng.choices([0, 1, 2, 3], [30, 35, 25, 10])[0])
        ):
            since = timezone.localdate(client.created_at) + timedelta(days=rng.randint(0, 60))
            yield (
                client.created_at, client.created_at, rng.choice(["direct", "direct", "indirect"]), rng.choice(ROLES),
                since, rng.choices(["active", "paused", "ended"], [7, 1, 2])[0],
                Decimal(rng.randint(1, 500) * 1_000_000), "VND", "", client.id, partner_id,
            )  # fmt: skip


RELATIONSHIP_COLUMNS = [
    "created_at", "updated_at", "link", "role", "since", "status", "value", "currency", "notes", "client_id",
    "partner_id",
]  # fmt: skip


def tag_rows(rng, clients, tag_ids) -> Iterator[tuple]:
    for client in clients:
        for tag_id in rng.sample(tag_ids, k=rng.choices([0, 1, 2], [60, 30, 10])[0]):
            yield client.id, tag_id


# --- Contracts -----------------------------------------------------------------------------------------------

# Shares of the contracts per stage, in percent: 30 % active, as the issue's benchmark asks, the rest spread over
# the pipeline and the ended stages. Each renewed contract has an active successor (kind renewal) on its client.
CONTRACT_STAGES = [
    ("active", 30), ("draft", 12), ("negotiation", 10), ("awaiting_signature", 6), ("renewed", 12), ("expired", 15),
    ("terminated", 3), ("lost", 12),
]  # fmt: skip
SIGNED_STAGES = {"active", "renewed", "expired", "terminated"}
CAMPAIGNS = [
    "Chiến dịch Tết", "Retainer thương hiệu", "Ra mắt sản phẩm mới", "Performance", "Social always-on",
    "Sự kiện mở bán", "TVC và OOH", "KOL và livestream", "Brand PR", "Activation tại điểm bán", "Digital retainer",
]  # fmt: skip
LOST_REASONS = ["Chọn agency khác", "Ngân sách bị cắt", "Price too high", "Dự án tạm dừng", "No decision"]
CONTRACT_LENGTHS = [180, 365, 365, 365, 730]
NOTICE_DAYS = [0, 15, 30, 30, 30, 60, 90]


def contract_stages(rng, count: int) -> list[str]:
    """``count`` stages in the shares above, shuffled so that every stage is spread over the whole id range."""
    stages = []
    for stage, share in CONTRACT_STAGES:
        stages += [stage] * (count * share // 100)
    stages += ["draft"] * (count - len(stages))
    rng.shuffle(stages)
    return stages


def contract_rows(rng, ids, clients, sales_ids, now) -> Iterator[tuple]:
    """One row per id: renewed contracts paired with an active successor on the same client, the rest alone."""
    stages = contract_stages(rng, len(ids))
    today = timezone.localdate(now)
    owners = {client.id: client.owner_id for client in clients}
    client_of = [rng.choice(clients).id for _ in ids]
    successors = dict(
        zip(
            (index for index, stage in enumerate(stages) if stage == "renewed"),
            (index for index, stage in enumerate(stages) if stage == "active"),
            strict=False,
        )
    )
    predecessors = {successor: predecessor for predecessor, successor in successors.items()}
    for predecessor, successor in successors.items():
        client_of[successor] = client_of[predecessor]
    starts = {}  # a successor's start, which its predecessor's dates follow from; running today, however long
    for index, stage in enumerate(stages):
        if stage == "active" and index in predecessors:
            starts[index] = today - timedelta(days=rng.randint(0, min(CONTRACT_LENGTHS) - 1))
    for index, (contract_id, stage) in enumerate(zip(ids, stages, strict=True)):
        owner_id = owners[client_of[index]]
        if stage not in SIGNED_STAGES and sales_ids and rng.random() < 0.15:
            owner_id = rng.choice(sales_ids)
        renewal_of = ids[predecessors[index]] if index in predecessors else None
        start = starts.get(index)
        if index in successors:
            start = starts[successors[index]] - timedelta(days=365)
        yield contract_row(rng, contract_id, index, stage, client_of[index], owner_id, renewal_of, start, now, today)


def contract_row(rng, contract_id, index, stage, client_id, owner_id, renewal_of, start, now, today) -> tuple:
    currency = "USD" if rng.random() < 0.08 else "VND"
    value = Decimal(rng.randint(5, 5000) * 100) if currency == "USD" else Decimal(rng.randint(50, 10_000) * 1_000_000)
    budget = (value * Decimal(rng.randint(50, 75)) / 100).quantize(Decimal("1"))
    signed_at = start_date = end_date = notice_deadline = None
    notice_days, lost_reason = rng.choice(NOTICE_DAYS), ""
    if stage in SIGNED_STAGES:
        start_date, end_date = signed_dates(rng, stage, start, today)
        signed_at = at_random_time(rng, start_date - timedelta(days=rng.randint(3, 30)))
        notice_deadline = end_date - timedelta(days=notice_days)
        created_at = signed_at - timedelta(days=rng.uniform(10, 90))
        stage_changed_at = signed_at if stage == "active" else min(at_random_time(rng, end_date), now)
        expected_close = timezone.localdate(signed_at)
    else:
        created_at = now - timedelta(days=rng.uniform(1, 120))
        stage_changed_at = created_at + (now - created_at) * rng.random()
        expected_close = today + timedelta(days=rng.randint(-30, 120))
        if stage == "lost":
            lost_reason = rng.choice(LOST_REASONS)
    kind = "renewal" if renewal_of else rng.choices(["new_business", "upsell"], [7, 3])[0]
    return (
        contract_id, created_at, stage_changed_at, client_id, owner_id, f"{CONTRACT_NUMBER_PREFIX}{index + 1:07d}",
        f"{rng.choice(CAMPAIGNS)} {timezone.localdate(created_at).year}", kind, stage, stage_changed_at, value,
        currency, budget, rng.choice(["one_off", "monthly_retainer", "milestones"]), rng.choice([15, 30, 30, 45, 60]),
        DEFAULT_PROBABILITY[stage], expected_close, signed_at, start_date, end_date, rng.random() < 0.2, notice_days,
        notice_deadline, renewal_of, lost_reason, "", 1,
    )  # fmt: skip


def signed_dates(rng, stage: str, start: date | None, today: date) -> tuple[date, date]:
    """Start and end: active contracts are running today; renewed and expired ones ended; terminated ones either."""
    length = timedelta(days=rng.choice(CONTRACT_LENGTHS) - 1)
    if start is None and stage == "active":
        start = today - timedelta(days=rng.randint(0, length.days))
    elif start is None:
        start = today - length - timedelta(days=rng.randint(1 if stage != "terminated" else -150, 700))
    return start, start + (timedelta(days=364) if stage in ("renewed",) else length)


def at_random_time(rng, day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(hours=rng.uniform(8, 18))


CONTRACT_COLUMNS = [
    "id", "created_at", "updated_at", "client_id", "owner_id", "number", "title", "kind", "stage", "stage_changed_at",
    "value", "currency", "budget", "billing_schedule", "payment_terms_days", "probability", "expected_close",
    "signed_at", "start_date", "end_date", "auto_renew", "notice_days", "notice_deadline", "renewal_of_id",
    "lost_reason", "scope", "version",
]  # fmt: skip


def write_contracts(rng, count: int, clients: list[GeneratedClient], now) -> None:
    sales_ids = list(User.objects.filter(role=Role.SALES, is_active=True).order_by("pk").values_list("pk", flat=True))
    ids = reserve_ids(Contract, count)
    write_rows(Contract, CONTRACT_COLUMNS, contract_rows(rng, ids, clients, sales_ids, now))


def stored_clients() -> list[GeneratedClient]:
    """The generated clients already in the database (to add contracts to them alone)."""
    rows = generated_clients().order_by("pk").values_list("pk", "owner_id", "created_at")
    return [GeneratedClient(pk, owner_id, created_at, ()) for pk, owner_id, created_at in rows]


def write_clients(rng, count, contacts_per_client, account_managers, now) -> tuple[list[GeneratedClient], dict]:
    """The clients, owned in turn by each account manager; with the contact ids reserved for each."""
    ids = reserve_ids(Client, count)
    owners = {client_id: account_managers[index % len(account_managers)] for index, client_id in enumerate(ids)}
    records = [dict(zip(CLIENT_COLUMNS, row, strict=True)) for row in client_rows(rng, ids, owners, now)]
    write_rows(Client, CLIENT_COLUMNS, ([record[column] for column in CLIENT_COLUMNS] for record in records))
    contact_ids = iter(reserve_ids(Contact, count * contacts_per_client))
    clients = [
        GeneratedClient(
            record["id"],
            record["owner_id"],
            record["created_at"],
            tuple(next(contact_ids) for _ in range(contacts_per_client)),
        )
        for record in records
    ]
    return clients, {record["id"]: record["website"].removeprefix("https://") for record in records}


# --- Invoices and payments -----------------------------------------------------------------------------------

# How a client pays, by share of clients: (share in percent, days after the due date: low, mode, high, share of
# its invoices it never pays). Most pay within a few weeks of the due date (rating A); some are slow or bad payers.
PAYERS = {
    "A": (60, (-10, 2, 25), 0.002),
    "B": (25, (10, 35, 60), 0.01),
    "C": (10, (30, 65, 100), 0.03),
    "D": (5, (60, 110, 220), 0.10),
}
PAYMENT_DAYS = 30  # due date = issue date + 30
MINIMUM_NET = {"VND": Decimal(5_000_000), "USD": Decimal(200)}
VAT_RATES = [(10, 85), (8, 10), (5, 3), (0, 2)]
INVOICE_SHARES = [12, 6, 4, 3, 2]  # a non-retainer invoice bills 1/12 … 1/2 of the contract value
INVOICE_DESCRIPTIONS = [
    "Tạm ứng theo hợp đồng", "Nghiệm thu giai đoạn {n}", "Chi phí media đợt {n}", "Production fee – batch {n}",
    "Phí quản lý chiến dịch", "KOL booking – đợt {n}",
]  # fmt: skip
VOID_REASONS = ["Sai mã số thuế trên hóa đơn", "Xuất trùng hóa đơn", "Issued to the wrong entity", "Sai đơn giá"]
WRITE_OFF_REASONS = ["Khách hàng giải thể", "Không thu hồi được sau 12 tháng", "Settled for less after a dispute"]
DISPUTE_NOTES = ["Khách hàng chưa nhận đủ biên bản nghiệm thu", "Client disputes the media volume", "Sai đơn giá"]


@dataclass(slots=True)
class PlannedInvoice:
    contract_id: int
    client_id: int
    currency: str
    schedule_key: str
    description: str
    issue_date: date
    net: Decimal
    vat_rate: int
    vat: Decimal
    gross: Decimal
    status: str = "issued"
    paid: Decimal = Decimal("0")
    last_paid_on: date | None = None  # the payment that completes a paid invoice
    payments: int = 0
    closed_on: date | None = None
    close_reason: str = ""
    disputed: bool = False
    dispute_note: str = ""
    promise_to_pay: date | None = None
    followups_paused: bool = False
    number: str | None = None
    id: int = 0

    @property
    def due_date(self) -> date:
        return self.issue_date + timedelta(days=PAYMENT_DAYS)


@dataclass(frozen=True)
class BillableContract:
    id: int
    client_id: int
    number: str
    currency: str
    value: Decimal
    billing_schedule: str
    first_day: date  # invoices fall between these two days: the contract's run within the last two years
    last_day: date


def billable_contracts(today: date) -> list[BillableContract]:
    """The generated signed contracts that ran at some point in the last two years, with the days they ran."""
    rows = (
        generated_contracts()
        .filter(stage__in=SIGNED_STAGES)
        .order_by("pk")
        .values_list(
            "pk", "client_id", "number", "currency", "value", "billing_schedule", "stage", "start_date", "end_date",
            "stage_changed_at",
        )
    )  # fmt: skip
    contracts = []
    for pk, client_id, number, currency, value, schedule, stage, start, end, changed_at in rows:
        last_day = min(end, today)
        if stage == "terminated":
            last_day = min(last_day, timezone.localdate(changed_at))
        first_day = max(start, today - HISTORY)
        if first_day <= last_day:
            contracts.append(BillableContract(pk, client_id, number, currency, value, schedule, first_day, last_day))
    return contracts


def payer_profiles(rng, client_ids: Iterable[int]) -> dict[int, str]:
    ratings = list(PAYERS)
    weights = [PAYERS[rating][0] for rating in ratings]
    return {client_id: rng.choices(ratings, weights)[0] for client_id in sorted(set(client_ids))}


def plan_invoices(rng, count: int, contracts: list[BillableContract], today: date) -> list[PlannedInvoice]:
    """``count`` invoices spread evenly over time: a contract is picked in proportion to the days it ran."""
    weights = [(contract.last_day - contract.first_day).days + 1 for contract in contracts]
    rates, rate_weights = weighted(VAT_RATES)
    keys: set[tuple[int, str]] = set()
    invoices = []
    for contract in rng.choices(contracts, weights, k=count):
        issue_date = contract.first_day + timedelta(days=rng.randint(0, (contract.last_day - contract.first_day).days))
        key, description = schedule_item(rng, contract, issue_date, keys)
        share = 12 if contract.billing_schedule == "monthly_retainer" else rng.choice(INVOICE_SHARES)
        step = Decimal(1000) if contract.currency == "VND" else Decimal(100)  # VAT in whole đồng and dollars
        net = max(round_down(contract.value / share, step), MINIMUM_NET[contract.currency])
        vat_rate = rng.choices(rates, rate_weights)[0]
        totals = invoice_totals(net, vat_rate, contract.currency)
        invoices.append(
            PlannedInvoice(
                contract_id=contract.id,
                client_id=contract.client_id,
                currency=contract.currency,
                schedule_key=key,
                description=description,
                issue_date=issue_date,
                net=totals.net,
                vat_rate=vat_rate,
                vat=totals.vat,
                gross=totals.gross,
            )
        )
    return invoices


def schedule_item(rng, contract: BillableContract, issue_date: date, keys: set) -> tuple[str, str]:
    """The billing schedule's key and a description: one retainer invoice a month, one one-off invoice per contract
    (as the schedule sweep would key them); the others are invoices raised by hand, with no key."""
    if contract.billing_schedule == "monthly_retainer":
        key = f"retainer:{issue_date:%Y-%m}"
        if (contract.id, key) not in keys:
            keys.add((contract.id, key))
            return key, f"Phí retainer tháng {issue_date:%m/%Y}"
    if contract.billing_schedule == "one_off" and (contract.id, "one-off") not in keys:
        keys.add((contract.id, "one-off"))
        return "one-off", f"Thanh toán hợp đồng {contract.number}"
    return "", rng.choice(INVOICE_DESCRIPTIONS).format(n=rng.randint(1, 4))


def settle(rng, invoice: PlannedInvoice, payer: str, today: date) -> None:
    """Decide what happened to the invoice: paid (late as its client's habit), part paid, open, void, written off,
    or still a draft."""
    _share, (low, mode, high), never = PAYERS[payer]
    if (today - invoice.issue_date).days < 20 and rng.random() < 0.01:
        invoice.status = "draft"
        return
    if rng.random() < 0.01:
        invoice.status, invoice.close_reason = "void", rng.choice(VOID_REASONS)
        invoice.closed_on = min(invoice.issue_date + timedelta(days=rng.randint(0, 10)), today)
        return
    paid_on = max(invoice.due_date + timedelta(days=round(rng.triangular(low, high, mode))), invoice.issue_date)
    if paid_on <= today and rng.random() >= never:
        invoice.status, invoice.paid, invoice.last_paid_on = "paid", invoice.gross, paid_on
        return
    overdue = (today - invoice.due_date).days
    if rng.random() < 0.3:  # part of it came in already
        invoice.status = "partially_paid"
        invoice.paid = part_of(rng, invoice.gross, invoice.currency)
    if overdue > 180 and rng.random() < 0.3:
        invoice.status, invoice.close_reason = "written_off", rng.choice(WRITE_OFF_REASONS)
        invoice.closed_on = min(invoice.due_date + timedelta(days=rng.randint(150, 250)), today)
        return
    if overdue > 0 and rng.random() < 0.03:
        invoice.disputed, invoice.dispute_note = True, rng.choice(DISPUTE_NOTES)
    elif overdue > 0 and rng.random() < 0.05:
        invoice.promise_to_pay = today + timedelta(days=rng.randint(1, 30))
    invoice.followups_paused = rng.random() < 0.01


def part_of(rng, gross: Decimal, currency: str) -> Decimal:
    step = Decimal(1000) if currency == "VND" else Decimal(1)
    return max(round_down(gross * Decimal(rng.randint(20, 80)) / 100, step), step)


def round_down(amount: Decimal, step: Decimal) -> Decimal:
    """``amount`` down to a multiple of ``step`` (1000 đồng, 100 dollars…)."""
    return (amount / step).quantize(Decimal(1), rounding=ROUND_DOWN) * step


def count_payments(rng, invoices: list[PlannedInvoice], total: int) -> None:
    """One payment per invoice that received money, the rest of ``total`` spread at random: instalments."""
    paying = [invoice for invoice in invoices if invoice.paid]
    if total < len(paying):
        raise SystemExit(
            f"--payments {total} is fewer than the {len(paying)} invoices that received money: ask for at least "
            f"{len(paying)} (or fewer invoices)."
        )
    for invoice in paying:
        invoice.payments = 1
    for invoice in rng.choices(paying, k=total - len(paying)) if paying else ():
        invoice.payments += 1


def number_invoices(invoices: list[PlannedInvoice], first_id: Iterator[int]) -> dict[int, int]:
    """Ids in the order of the issue dates, numbers per year after the last number already taken, without gaps.
    Returns the last number per year."""
    invoices.sort(key=lambda invoice: invoice.issue_date)
    last = dict(InvoiceNumber.objects.values_list("year", "last"))
    for invoice in invoices:
        invoice.id = next(first_id)
        if invoice.status != "draft":
            year = invoice.issue_date.year
            last[year] = last.get(year, 0) + 1
            invoice.number = f"INV-{year}-{last[year]:05d}"
    return last


def invoice_rows(rng, invoices: list[PlannedInvoice], finance_id: int | None) -> Iterator[tuple]:
    for invoice in invoices:
        created_at = at_random_time(rng, invoice.issue_date)
        issued_at = None if invoice.status == "draft" else created_at + timedelta(minutes=rng.randint(1, 90))
        paid_on = invoice.last_paid_on if invoice.status == "paid" else None
        last_change = paid_on or invoice.closed_on or invoice.issue_date
        yield (
            invoice.id, created_at, max(at_random_time(rng, last_change), issued_at or created_at), invoice.number,
            invoice.schedule_key, invoice.description, invoice.issue_date, invoice.due_date, invoice.currency,
            invoice.net, invoice.vat_rate, invoice.vat, invoice.gross, invoice.paid, paid_on, invoice.status,
            issued_at, invoice.closed_on, invoice.close_reason, invoice.disputed, invoice.dispute_note,
            invoice.promise_to_pay, invoice.followups_paused, 1 + invoice.payments + (invoice.status != "draft"),
            invoice.client_id, invoice.contract_id, finance_id if rng.random() < 0.4 else None, None,
        )  # fmt: skip


INVOICE_COLUMNS = [
    "id", "created_at", "updated_at", "number", "schedule_key", "description", "issue_date", "due_date", "currency",
    "net_amount", "vat_rate", "vat_amount", "gross_amount", "paid_amount", "paid_on", "status", "issued_at",
    "closed_on", "close_reason", "disputed", "dispute_note", "promise_to_pay", "followups_paused", "version",
    "client_id", "contract_id", "created_by_id", "phase_id",
]  # fmt: skip


def payment_rows(rng, invoices: list[PlannedInvoice], recorder_id: int, today: date) -> Iterator[tuple]:
    """Each invoice's payments: instalments adding up exactly to what it was paid, the last one on the day a paid
    invoice was settled; part payments between the issue date and today."""
    methods, method_weights = weighted([("bank_transfer", 90), ("card", 4), ("cash", 3), ("other", 3)])
    for invoice in invoices:
        if not invoice.payments:
            continue
        amounts = instalments(rng, invoice.paid, invoice.payments, invoice.currency)
        until = invoice.last_paid_on or invoice.closed_on or today
        span = (until - invoice.issue_date).days
        days = sorted(invoice.issue_date + timedelta(days=rng.randint(0, span)) for _ in amounts[:-1])
        days.append(until if invoice.last_paid_on else invoice.issue_date + timedelta(days=rng.randint(0, span)))
        for amount, received_on in zip(amounts, sorted(days), strict=True):
            moment = at_random_time(rng, received_on)
            yield (
                moment, moment, amount, received_on, rng.choices(methods, method_weights)[0],
                f"FT{received_on:%y%j}{rng.randint(10000, 99999)}", invoice.id, recorder_id,
            )  # fmt: skip


PAYMENT_COLUMNS = [
    "created_at",
    "updated_at",
    "amount",
    "received_on",
    "method",
    "reference",
    "invoice_id",
    "recorded_by_id",
]


def instalments(rng, total: Decimal, count: int, currency: str) -> list[Decimal]:
    """``count`` positive amounts adding up exactly to ``total``: round ones first, the last takes the rest."""
    step = Decimal(1000) if currency == "VND" else Decimal(1)
    if total < step * count:  # too small for round instalments: to the đồng or the cent
        step = Decimal(1) if currency == "VND" else Decimal("0.01")
    weights = [rng.randint(2, 8) for _ in range(count)]
    amounts = [max(round_down(total * weight / sum(weights), step), step) for weight in weights[:-1]]
    amounts.append(total - sum(amounts))
    return amounts


def write_billing(rng, invoices: int, payments: int, now) -> tuple[int, int]:
    """Invoices on the generated signed contracts and their payments; returns how many of each were written."""
    today = timezone.localdate(now)
    contracts = billable_contracts(today)
    if not contracts or not invoices:
        return 0, 0
    planned = plan_invoices(rng, invoices, contracts, today)
    payers = payer_profiles(rng, (contract.client_id for contract in contracts))
    for invoice in planned:
        settle(rng, invoice, payers[invoice.client_id], today)
    count_payments(rng, planned, payments)
    last_numbers = number_invoices(planned, iter(reserve_ids(Invoice, len(planned))))
    finance = User.objects.filter(role=Role.FINANCE, is_active=True).order_by("pk").values_list("pk", flat=True)
    finance_id = finance.first()
    if finance_id is None:
        raise SystemExit("No active finance user to record the payments: run `manage.py seed_demo` first.")
    written = write_rows(Invoice, INVOICE_COLUMNS, invoice_rows(rng, planned, finance_id))
    paid = write_rows(Payment, PAYMENT_COLUMNS, payment_rows(rng, planned, finance_id, today))
    for year, last in last_numbers.items():
        InvoiceNumber.objects.update_or_create(year=year, defaults={"last": last})
    return written, paid


# --- The run -------------------------------------------------------------------------------------------------


def generate(sizes: Sizes, contacts_per_client: int, seed: int) -> None:
    rng, now = random.Random(seed), timezone.now()
    account_managers = list(User.objects.filter(role=Role.ACCOUNT_MANAGER, is_active=True).order_by("pk"))
    if not account_managers:
        raise SystemExit("No active account manager to own the clients: run `manage.py seed_demo` first.")
    with transaction.atomic():
        with step(f"{sizes.clients} clients"):
            clients, domains = write_clients(rng, sizes.clients, contacts_per_client, account_managers, now)
        with step(f"{sizes.contacts} contacts"):
            write_rows(Contact, CONTACT_COLUMNS, contact_rows(rng, clients, domains))
        with step(f"{sizes.partners} partners, their clients and tags"):
            partner_ids = reserve_ids(Partner, sizes.partners)
            names = partner_names(rng, len(partner_ids))
            write_rows(Partner, PARTNER_COLUMNS, partner_rows(rng, partner_ids, names, now))
            write_rows(PartnerRelationship, RELATIONSHIP_COLUMNS, relationship_rows(rng, clients, partner_ids, now))
            tag_ids = [Tag.objects.get_or_create(name=name)[0].pk for name in TAG_NAMES]
            write_rows(Client.tags.through, ["client_id", "tag_id"], tag_rows(rng, clients, tag_ids))
        weights = client_weights(rng, len(clients))
        manager_ids = [user.pk for user in account_managers]
        with step(f"{sizes.activities} activities"):
            activities = activity_rows(rng, clients, weights, sizes.activities, manager_ids, now)
            write_rows(Activity, ACTIVITY_COLUMNS, activities)
        with step(f"{sizes.requests} requests with their SLA"):
            write_rows(Request, REQUEST_COLUMNS, request_rows(rng, clients, weights, sizes.requests, now))
        with step(f"{sizes.contracts} contracts"):
            write_contracts(random.Random(f"{seed}:contracts"), sizes.contracts, clients, now)
        generate_billing_rows(sizes, seed, now)
        check_foreign_keys()
    vacuum_analyze()


def generate_contracts(sizes: Sizes, seed: int) -> None:
    """Only the contracts and their invoices, on the generated clients already there."""
    clients = stored_clients()
    if not clients:
        raise SystemExit("No generated clients to give contracts to: generate the clients first.")
    now = timezone.now()
    with transaction.atomic():
        with step(f"{sizes.contracts} contracts"):
            write_contracts(random.Random(f"{seed}:contracts"), sizes.contracts, clients, now)
        generate_billing_rows(sizes, seed, now)
        check_foreign_keys()
    vacuum_analyze()


def generate_billing(sizes: Sizes, seed: int) -> None:
    """Only the invoices and payments, on the generated contracts already there."""
    if not generated_contracts().exists():
        raise SystemExit("No generated contracts to invoice: generate the contracts first.")
    with transaction.atomic():
        generate_billing_rows(sizes, seed, timezone.now())
        check_foreign_keys()
    vacuum_analyze()


def generate_billing_rows(sizes: Sizes, seed: int, now) -> None:
    with step(f"{sizes.invoices} invoices, {sizes.payments} payments"):
        invoices, payments = write_billing(random.Random(f"{seed}:billing"), sizes.invoices, sizes.payments, now)
    if (invoices, payments) != (sizes.invoices, sizes.payments):
        print(f"  (wrote {invoices} invoices and {payments} payments: no signed contract ran in the last two years)")


def check_foreign_keys() -> None:
    if connection.vendor == "postgresql":
        with step("foreign-key checks"), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # runs the deferred checks now, inside the timing


def vacuum_analyze() -> None:
    models = (Client, Contact, Partner, PartnerRelationship, Activity, Request, Contract, Invoice, Payment)
    tables = [model._meta.db_table for model in models]
    tables.append(Client.tags.through._meta.db_table)
    with step("VACUUM ANALYZE"), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")
        else:
            cursor.execute("ANALYZE")


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20000)
    parser.add_argument("--contacts-per-client", type=int, default=3)
    parser.add_argument("--activities", type=int, default=500000)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--partners", type=int, default=300)
    parser.add_argument("--contracts", type=int, default=100000, help="30 %% of them active")
    parser.add_argument("--invoices", type=int, default=300000, help="on the signed contracts, over two years")
    parser.add_argument("--payments", type=int, default=500000, help="at least one per invoice paid or part paid")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (same seed, same data)")
    parser.add_argument("--reset", action="store_true", help="delete the generated rows first")
    parser.add_argument(
        "--reset-contracts", action="store_true", help="rebuild the generated contracts (and their invoices) only"
    )
    parser.add_argument("--reset-billing", action="store_true", help="rebuild the generated invoices only")
    parser.add_argument("--allow-sqlite", action="store_true", help="run on SQLite anyway (slow)")
    return parser.parse_args()


def main() -> None:
    options = parse_options()
    if connection.vendor != "postgresql" and not options.allow_sqlite:
        raise SystemExit(
            f"The database is {connection.vendor}: generating this much data is meant for PostgreSQL (COPY, trigram "
            "indexes). Set DATABASE_URL=postgres://..., or pass --allow-sqlite to insert row by row anyway."
        )
    wanted = Sizes(
        options.clients,
        options.clients * options.contacts_per_client,
        options.activities,
        options.requests,
        options.partners,
        options.contracts,
        options.invoices,
        options.payments,
    )
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", quiet=True, stdout=open(os.devnull, "w"))  # noqa: SIM115
    present = present_sizes()
    rebuild = options.reset or options.reset_contracts or options.reset_billing
    if present == wanted and not rebuild:
        if triggers_paused():
            resume_pre_summed()  # an earlier run died while writing
        print(f"Generated data already present at this size ({_describe(present)}); nothing to do.")
        return
    with pre_summed_paused():
        write(options, present, wanted)
    print(f"Done in {time.perf_counter() - started:.1f} s.")


def triggers_paused() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'D' AND tgrelid::regclass::text"
            " = ANY(%s)",
            [list(SUMMED_TABLES)],
        )
        return cursor.fetchone()[0] > 0


def write(options: argparse.Namespace, present: Sizes, wanted: Sizes) -> None:
    if present.clients and not options.reset and _people(present) == _people(wanted):
        if present.contracts == wanted.contracts and not options.reset_contracts:
            replace_billing(present, wanted, options.seed)
        else:
            replace_contracts(present, wanted, options.seed)
        return
    if present.clients or present.partners:
        if not options.reset:
            raise SystemExit(f"Generated data of another size is present ({_describe(present)}): run with --reset.")
        with step(f"delete {_describe(present)}"), history_paused():
            delete_generated()
        vacuum_analyze()  # so the new rows reuse the space of the deleted ones
    print(f"Generating on {connection.vendor}: {_describe(wanted)}")
    generate(wanted, options.contacts_per_client, options.seed)


def replace_contracts(present: Sizes, wanted: Sizes, seed: int) -> None:
    """Only the contracts differ (or --reset-contracts): replace them and their invoices, keep the rest."""
    if present.contracts:
        with step(f"delete {present.contracts} contracts, {present.invoices} invoices"), history_paused():
            delete_generated_contracts()
    print(
        f"Generating on {connection.vendor}: {wanted.contracts} contracts, {wanted.invoices} invoices and "
        f"{wanted.payments} payments on the generated clients"
    )
    generate_contracts(wanted, seed)


def replace_billing(present: Sizes, wanted: Sizes, seed: int) -> None:
    """Only the invoices or payments differ (or --reset-billing): replace them, keep the contracts."""
    if present.invoices:
        with step(f"delete {present.invoices} invoices, {present.payments} payments"), history_paused():
            delete_generated_billing()
    print(f"Generating on {connection.vendor}: {wanted.invoices} invoices and {wanted.payments} payments")
    generate_billing(wanted, seed)


def _people(sizes: Sizes) -> Sizes:
    """The sizes without contracts and billing: what only a full --reset changes."""
    return replace(sizes, contracts=0, invoices=0, payments=0)


def _describe(sizes: Sizes) -> str:
    return (
        f"{sizes.clients} clients, {sizes.contacts} contacts, {sizes.activities} activities, "
        f"{sizes.requests} requests, {sizes.partners} partners, {sizes.contracts} contracts, "
        f"{sizes.invoices} invoices, {sizes.payments} payments"
    )


if __name__ == "__main__":
    main()
