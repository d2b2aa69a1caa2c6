"""Time the CSV import of clients: write a large file, import it through the service, print the figures, clean up.

    DATABASE_URL=postgres://... python bench/import_bench.py [--rows 10000] [--contacts-per-client 1] [--keep]

Runs against the configured database (PostgreSQL for figures that mean something). Every column is filled in,
owners are spread over three account managers, and tags come from a small set, as a real agency file would be.
What the benchmark creates is recognisable and is all it deletes afterwards: clients with tax codes 997xxxxxxx
(their contacts and tag links go with them), users and tags named import-bench. --keep leaves them in place;
--cleanup only deletes them.
"""

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import Role, Team, User  # noqa: E402
from bench import results  # noqa: E402
from clients.importer import COLUMNS, clients_import  # noqa: E402
from clients.models import Client, Tag  # noqa: E402

TAX_PREFIX = "997"
BENCH_DOMAIN = "import-bench.example"
TEAM_NAME = "import-bench"
TAG_PREFIX = "import-bench-"
TARGET_ROWS, TARGET_SECONDS = 10_000, 30

BRANDS = "Sao Mai|Hoàng Long|Việt Tiến|Phương Đông|Thành Công|Bình Minh|Đại Dương|Trường Sơn|An Khang|Hưng Thịnh"
SECTORS = "Thực phẩm|Ngân hàng|Bất động sản|Bán lẻ|Viễn thông|Công nghệ|Ô tô|Dược phẩm|Giáo dục|Du lịch"
CITIES = ["Hà Nội", "Hồ Chí Minh", "Đà Nẵng", "Hải Phòng", "Cần Thơ", "Bình Dương"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"]
GIVEN = ["Thu Hà", "Minh Quân", "Ngọc Lan", "Đức Thắng", "Hồng Nhung", "Quốc Bảo", "Thanh Tùng", "Mai Anh"]
TITLES = ["Marketing Director", "Brand Manager", "Chief Accountant", "CMO", "Trade Marketing Lead"]
INDUSTRIES = ["fmcg", "Banking and finance", "real_estate", "E-commerce and retail", "telecom", "technology"]


def ensure_people() -> tuple[User, list[User]]:
    """A director who imports and three account managers who own the clients (created once, reused)."""
    team, _created = Team.objects.get_or_create(name=TEAM_NAME)
    director = _user("director", Role.DIRECTOR, None)
    managers = [_user(f"am{number}", Role.ACCOUNT_MANAGER, team) for number in range(1, 4)]
    return director, managers


def _user(local_part: str, role: str, team: Team | None) -> User:
    email = f"{local_part}@{BENCH_DOMAIN}"
    user = User.objects.filter(email=email).first()
    return user or User.objects.create_user(email, None, full_name=f"Import bench {local_part}", role=role, team=team)


def write_file(path: Path, *, rows: int, contacts_per_client: int, owners: list[User], seed: int) -> int:
    """The CSV (UTF-8 with a BOM, as Excel saves it); returns the number of clients in it."""
    generator = random.Random(seed)
    brands, sectors = BRANDS.split("|"), SECTORS.split("|")
    clients, name = 0, ""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for index in range(rows):
            number = index // contacts_per_client
            first_row = index % contacts_per_client == 0
            clients += first_row
            if first_row:
                name = f"{generator.choice(brands)} {generator.choice(sectors)} {number}"
            row = {"name": name, "tax_code": f"{TAX_PREFIX}{number:07d}"}
            if first_row:
                row |= {
                    "legal_name": f"Công ty Cổ phần {name}",
                    "industry": generator.choice(INDUSTRIES),
                    "tier": generator.choice("ABC"),
                    "status": generator.choice(["prospect", "active", "At risk"]),
                    "owner_email": owners[number % len(owners)].email,
                    "billing_currency": generator.choice(["VND", "VND", "USD"]),
                    "payment_terms_days": str(generator.choice([15, 30, 45, 60])),
                    "website": f"client{number}.{BENCH_DOMAIN}",
                    "phone": f"+84 28 {generator.randint(1000, 9999)} {generator.randint(1000, 9999)}",
                    "city": generator.choice(CITIES),
                    "address": f"{generator.randint(1, 300)} Lê Lợi, Quận {generator.randint(1, 12)}",
                    "tags": ";".join(f"{TAG_PREFIX}{tag}" for tag in generator.sample(range(8), 2)),
                }
            row |= {
                "contact_name": f"{generator.choice(FAMILY)} {generator.choice(GIVEN)}",
                "contact_title": generator.choice(TITLES),
                "contact_email": f"contact{index}@{BENCH_DOMAIN}",
                "contact_phone": f"+84 90 {generator.randint(100, 999)} {generator.randint(1000, 9999)}",
                "contact_language": generator.choice(["vi", "vi", "en"]),
                "contact_decision_maker": generator.choice(["yes", "no", ""]),
                "contact_billing": generator.choice(["có", "không", "x", ""]),
            }
            writer.writerow(row)
    return clients


def cleanup() -> None:
    """Delete what the benchmark made, and nothing else."""
    Client.objects.filter(tax_code__startswith=TAX_PREFIX).delete()
    Tag.objects.filter(name__startswith=TAG_PREFIX, clients__isnull=True).delete()
    User.objects.filter(email__endswith=f"@{BENCH_DOMAIN}", owned_clients__isnull=True).delete()
    Team.objects.filter(name=TEAM_NAME, members__isnull=True).delete()


def timed(function, **kwargs):
    started = time.perf_counter()
    result = function(**kwargs)
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="data rows in the file (default 10000)")
    parser.add_argument("--contacts-per-client", type=int, default=1, help="rows per client (default 1)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="leave the imported clients in the database")
    parser.add_argument("--cleanup", action="store_true", help="only delete what an earlier --keep run left")
    options = parser.parse_args()

    call_command("migrate", verbosity=0)
    if options.cleanup:
        cleanup()
        print("cleaned up")
        return
    if Client.objects.filter(tax_code__startswith=TAX_PREFIX).exists():
        raise SystemExit(f"clients with tax codes {TAX_PREFIX}… exist from an earlier --keep run: run with --cleanup")
    director, managers = ensure_people()
    try:
        with tempfile.TemporaryDirectory(prefix="accord-import-bench-") as directory:
            path = Path(directory) / "clients.csv"
            clients = write_file(
                path,
                rows=options.rows,
                contacts_per_client=options.contacts_per_client,
                owners=managers,
                seed=options.seed,
            )
            data = path.read_bytes()
        checked, dry_seconds = timed(clients_import, file=data, actor=director, dry_run=True)
        report, seconds = timed(clients_import, file=data, actor=director, dry_run=False)
        if report.errors:
            raise SystemExit("\n".join(str(error) for error in report.errors[:20]))
        assert (checked.clients, report.clients) == (clients, clients)
        print(f"database: {connection.vendor}; file: {options.rows} rows, {len(data) / 1_000_000:.1f} MB")
        print(f"created: {report.clients} clients, {report.contacts} contacts")
        print(f"dry run (validate only): {dry_seconds:6.2f} s  {options.rows / dry_seconds:8.0f} rows/s")
        print(f"import (validate+write): {seconds:6.2f} s  {options.rows / seconds:8.0f} rows/s")
        projected = seconds * TARGET_ROWS / options.rows
        verdict = "met" if projected <= TARGET_SECONDS else "MISSED"
        print(f"target: {TARGET_ROWS} rows in {TARGET_SECONDS} s or less; at this rate {projected:.1f} s: {verdict}")
        results.record(
            group="import",
            target=f"client CSV import, {TARGET_ROWS:,} rows",
            p50=None,
            p95=round(projected, 1),
            unit="s",
            floor=TARGET_SECONDS,
            judged="value",
            note=f"{options.rows / seconds:.0f} rows/s",
        )
    finally:
        if not options.keep:
            cleanup()


if __name__ == "__main__":
    main()
