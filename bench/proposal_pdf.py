"""Time the proposal PDF: median and p95 render time of a 3-page proposal and of a 200-line one, in process.

    DATABASE_URL=postgres://... python bench/proposal_pdf.py [--runs 20] [--long-runs 8]

The code is the worker's (``proposals.pdf.render_proposal_pdf``: the content read from the database, the template,
WeasyPrint with the vendored fonts), without storing the file. Each proposal is built through the services inside
a transaction that is rolled back at the end: nothing is left in the database. The first render of each is a
warm-up (WeasyPrint's imports, font loading) and is not counted.

Targets (issue 6): 3 pages ≤ 800 ms median (stretch 300 ms), 200 lines ≤ 5 s median. Wall time is what a user
waits for; CPU time is the process's own, the figure to compare when other processes share the machine (the load
average is printed with the figures).
"""

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Role, Team, User  # noqa: E402
from clients.models import Client, Contact, Department  # noqa: E402
from proposals import services  # noqa: E402
from proposals.models import Proposal  # noqa: E402
from proposals.pdf import render_proposal_html, render_proposal_pdf  # noqa: E402

SHORT_TARGET_MS, SHORT_STRETCH_MS, LONG_TARGET_MS = 800, 300, 5000
SHORT_LINES, LONG_LINES = 10, 200

SERVICES = [
    ("Thiết kế bộ nhận diện thương hiệu", "Sáng tạo", "1", "package", "85000000", "0"),
    ("Nghiên cứu thị trường và chân dung khách hàng mục tiêu", "Chiến lược", "1", "package", "60000000", "5"),
    ("Sản xuất TVC 30 giây (kịch bản, quay, hậu kỳ)", "Sản xuất", "1", "video", "320000000", "10"),
    ("Quản lý fanpage và sáng tạo nội dung hằng tháng", "Kỹ thuật số", "3", "month", "45000000", "0"),
    ("Chụp ảnh sản phẩm cho bao bì và mạng xã hội", "Sản xuất", "40", "item", "1500000", "0"),
    ("Tổ chức sự kiện ra mắt sản phẩm tại Hà Nội", "Sự kiện", "1", "event", "450000000", "8"),
    ("Mua quảng cáo trên Facebook và YouTube (phí quản lý)", "Truyền thông", "3", "month", "25000000", "0"),
    ("Viết bài PR trên báo điện tử", "Quan hệ công chúng", "6", "post", "12000000", "0"),
    ("Tư vấn chiến lược thương hiệu (giờ chuyên gia)", "Chiến lược", "24", "hour", "2500000", "0"),
    ("Thiết kế ấn phẩm POSM cho hệ thống siêu thị", "Sáng tạo", "12", "item", "3200000", "5"),
]
TEXT = (
    "Tăng mức độ nhận biết thương hiệu lên 40 % tại Hà Nội và TP. Hồ Chí Minh trong 6 tháng.\n"
    "Ra mắt dòng sản phẩm mới trước Tết Nguyên đán với thông điệp thống nhất trên mọi kênh."
)


class Rollback(Exception):
    """Raised at the end of the measurements to undo everything the benchmark created."""


@dataclass(frozen=True)
class Figures:
    pages: int
    size_kb: int
    wall_p50: float
    wall_p95: float
    cpu_p50: float


def percentile_95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]


def build_proposal(owner: User, client: Client, recipient: Contact, line_count: int) -> Proposal:
    departments = {service[1]: Department.objects.get_or_create(name=service[1])[0] for service in SERVICES}
    lines = []
    for index in range(line_count):
        description, department, quantity, unit, price, discount = SERVICES[index % len(SERVICES)]
        suffix = f" ({index // len(SERVICES) + 1})" if index >= len(SERVICES) else ""
        lines.append(
            {
                "description": description + suffix,
                "department": departments[department],
                "quantity": Decimal(quantity),
                "unit": unit,
                "unit_price": Decimal(price),
                "discount_percent": Decimal(discount),
            }
        )
    return services.proposal_create(
        client=client,
        actor=owner,
        title=f"Chiến dịch ra mắt sản phẩm Tết ({line_count} dòng)",
        recipient=recipient,
        language="vi",
        objectives=TEXT,
        scope=TEXT,
        terms=TEXT,
        lines=lines,
    )


def people() -> tuple[User, Client, Contact]:
    team = Team.objects.create(name="proposal-pdf-bench")
    owner = User.objects.create_user(
        "am@proposal-pdf-bench.example", None, full_name="Nguyễn Lan Anh", role=Role.ACCOUNT_MANAGER, team=team
    )
    client = Client.objects.create(
        name="Công ty TNHH Thương mại Đông Á",
        legal_name="Công ty Trách nhiệm Hữu hạn Thương mại Đông Á",
        tax_code="0109999901",
        address="Tầng 12, Tòa nhà Lotte, 54 Liễu Giai, Ba Đình, Hà Nội",
        owner=owner,
        team=team,
    )
    recipient = Contact.objects.create(
        client=client, full_name="Nguyễn Thu Hà", title="Giám đốc Marketing", email="thu.ha@donga.example"
    )
    return owner, client, recipient


def measure(proposal: Proposal, runs: int) -> Figures:
    document = render_proposal_pdf(proposal)  # warm-up
    walls, cpus = [], []
    for _ in range(runs):
        proposal = Proposal.objects.get(pk=proposal.pk)  # as the task does: nothing cached from the last run
        wall, cpu = time.perf_counter(), time.process_time()
        document = render_proposal_pdf(proposal)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return Figures(
        pages=page_count(proposal),
        size_kb=round(len(document) / 1024),
        wall_p50=statistics.median(walls),
        wall_p95=percentile_95(walls),
        cpu_p50=statistics.median(cpus),
    )


def page_count(proposal: Proposal) -> int:
    """Pages of the proposal's PDF, laid out once more by WeasyPrint (not timed)."""
    from weasyprint import HTML

    from core.pdf import LOCAL_ORIGIN, LocalFilesFetcher

    html = render_proposal_html(proposal)
    return len(HTML(string=html, base_url=LOCAL_ORIGIN, url_fetcher=LocalFilesFetcher()).render().pages)


def report(name: str, figures: Figures, target_ms: int, stretch_ms: int | None = None) -> bool:
    passed = figures.wall_p50 <= target_ms
    verdict = "PASS" if passed else "MISS"
    if stretch_ms is not None:
        verdict += f", stretch {stretch_ms} ms {'met' if figures.wall_p50 <= stretch_ms else 'not met'}"
    print(
        f"{name:<28} {figures.pages:>3} pages {figures.size_kb:>4} KB   "
        f"p50 {figures.wall_p50:7.0f} ms  p95 {figures.wall_p95:7.0f} ms  (CPU p50 {figures.cpu_p50:7.0f} ms)   "
        f"target ≤ {target_ms} ms: {verdict}"
    )
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed renders of the 3-page proposal")
    parser.add_argument("--long-runs", type=int, default=8, help="timed renders of the 200-line proposal")
    arguments = parser.parse_args()

    print(f"Proposal PDF render, in process ({timezone.now():%Y-%m-%d %H:%M}, load average {os.getloadavg()[0]:.1f})")
    passed = True
    try:
        with transaction.atomic():
            owner, client, recipient = people()
            short = build_proposal(owner, client, recipient, SHORT_LINES)
            long = build_proposal(owner, client, recipient, LONG_LINES)
            passed &= report(f"{SHORT_LINES} lines", measure(short, arguments.runs), SHORT_TARGET_MS, SHORT_STRETCH_MS)
            passed &= report(f"{LONG_LINES} lines", measure(long, arguments.long_runs), LONG_TARGET_MS)
            raise Rollback
    except Rollback:
        pass
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
