"""The demo agency's rate card and proposals, written through the proposals services.

What a person exploring the demo should find: a rate card for every department (in đồng, a few items in dollars),
and proposals in every status, in Vietnamese and English — drafts, one waiting for a director's approval of a 20 %
discount, one approved, one sent and already opened by the client, one accepted (its deal moved to awaiting
signature), one declined with the client's reason, one expired, and one superseded by its second version.

Sending renders the PDF in-process when no worker runs, which is slow: only four proposals are sent. The client's
answers go through the same services as the public page. Idempotent: a proposal whose client and title exist is
skipped, and so is a rate-card item that exists.
"""

import logging
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from accounts.models import Role, User
from clients.models import Client, Contact, Department
from contracts.models import Contract
from core.money import Currency
from proposals import services
from proposals.models import Proposal, RateCardItem, Unit

logger = logging.getLogger(__name__)

# (department, service, unit, currency, price)
RATE_CARD = [
    ("Creative", "Big idea và key visual", Unit.PACKAGE, Currency.VND, 120_000_000),
    ("Creative", "Thiết kế ấn phẩm social", Unit.POST, Currency.VND, 2_500_000),
    ("Creative", "Copywriting", Unit.DAY, Currency.VND, 4_000_000),
    ("Creative", "Key visual adaptation", Unit.ITEM, Currency.USD, 450),
    ("Planning", "Nghiên cứu người tiêu dùng", Unit.PACKAGE, Currency.VND, 85_000_000),
    ("Planning", "Kế hoạch truyền thông tích hợp", Unit.PACKAGE, Currency.VND, 60_000_000),
    ("Planning", "Strategy workshop", Unit.DAY, Currency.USD, 2_400),
    ("Production house", "Sản xuất TVC 30 giây", Unit.VIDEO, Currency.VND, 850_000_000),
    ("Production house", "Video ngắn cho social", Unit.VIDEO, Currency.VND, 35_000_000),
    ("Production house", "Chụp ảnh sản phẩm", Unit.DAY, Currency.VND, 28_000_000),
    ("Media", "Mua media truyền hình", Unit.MONTH, Currency.VND, 1_200_000_000),
    ("Media", "Quản lý media OOH", Unit.MONTH, Currency.VND, 45_000_000),
    ("Media", "Media buying fee", Unit.MONTH, Currency.USD, 3_000),
    ("Digital", "Quản lý fanpage", Unit.MONTH, Currency.VND, 40_000_000),
    ("Digital", "Quảng cáo hiệu quả (phí quản lý)", Unit.MONTH, Currency.VND, 30_000_000),
    ("Digital", "Booking KOL", Unit.ITEM, Currency.VND, 60_000_000),
    ("Digital", "Performance campaign management", Unit.MONTH, Currency.USD, 2_000),
]
TERMS = {
    "vi": "Thanh toán 50 % khi ký hợp đồng, 50 % khi nghiệm thu. Giá chưa gồm chi phí mua media phát sinh.",
    "en": "50 % on signature, 50 % on acceptance of the deliverables. Media spend is billed at cost.",
}
DRAFT, PENDING, APPROVED, SENT, VIEWED = "draft", "pending", "approved", "sent", "viewed"
ACCEPTED, DECLINED, EXPIRED, SUPERSEDED = "accepted", "declined", "expired", "superseded"
# A rate-card price in another currency than the client's, converted at a round demo rate.
EXCHANGE = {
    (Currency.VND, Currency.VND): Decimal(1),
    (Currency.USD, Currency.USD): Decimal(1),
    (Currency.VND, Currency.USD): Decimal("0.00004"),
    (Currency.USD, Currency.VND): Decimal(25_000),
}
CLIENT_TRACE = {"ip": "113.161.72.15", "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0"}


@dataclass(frozen=True)
class DemoProposal:
    client: str  # tax code of a demo client
    title: str
    story: str
    language: str
    services: tuple[str, ...]  # rate-card services, in the client's currency
    discount: int = 0  # percent on every line
    deal: str = ""  # title of the demo deal it serves
    reason: str = ""  # why the client declined


D = DemoProposal
PROPOSALS = [
    D("0346229481", "Ra mắt vị mới 2027 – đề xuất sơ bộ", DRAFT, "vi",
      ("Nghiên cứu người tiêu dùng", "Big idea và key visual", "Video ngắn cho social")),
    D("0173091147", "Social always-on 2027", DRAFT, "vi", ("Quản lý fanpage", "Thiết kế ấn phẩm social")),
    D("0165568154", "CSR programme 2027", DRAFT, "en", ("Strategy workshop", "Key visual adaptation")),
    D("0147075364", "OOH và thương hiệu 2027", PENDING, "vi",
      ("Quản lý media OOH", "Big idea và key visual", "Chụp ảnh sản phẩm"), discount=20),
    D("0388369579", "Performance wallet growth H1/2027", APPROVED, "en",
      ("Quảng cáo hiệu quả (phí quản lý)", "Booking KOL"), discount=18),
    D("0370283828", "Sự kiện mở bán Vạn An Residences", VIEWED, "vi",
      ("Kế hoạch truyền thông tích hợp", "Booking KOL", "Video ngắn cho social"),
      deal="Sự kiện mở bán Vạn An Residences"),
    D("0145881390", "TVC Tết 2027 – Sum vầy", ACCEPTED, "vi",
      ("Big idea và key visual", "Sản xuất TVC 30 giây", "Mua media truyền hình"), discount=5,
      deal="TVC Tết 2027 – Sum vầy"),
    D("1847058609", "eSIM launch campaign", DECLINED, "en",
      ("Kế hoạch truyền thông tích hợp", "Quảng cáo hiệu quả (phí quản lý)"),
      reason="We chose to launch the eSIM in-house with our own digital team this year."),
    D("0188698791", "Trade marketing Trung thu 2026", EXPIRED, "vi", ("Chụp ảnh sản phẩm", "Thiết kế ấn phẩm social")),
    D("0376283609", "Social và sự kiện 2027", SUPERSEDED, "vi",
      ("Quản lý fanpage", "Booking KOL", "Video ngắn cho social")),
    D("0148844728", "Digital 2027", DRAFT, "vi", ("Quản lý fanpage", "Quảng cáo hiệu quả (phí quản lý)"), discount=10),
]  # fmt: skip


# --- Entry point -----------------------------------------------------------------------------------------------


def seed_proposals(*, rng: random.Random, today: date, quiet: bool = False) -> dict[str, int]:
    """Create the demo rate card and the demo proposals that do not exist yet (keyed by client and title).

    Returns how many rate-card items, proposals (versions included) and lines were created. Proposals of demo
    clients missing from the database are skipped; without a director, the approval stories stay drafts.
    """
    counts = {"rate_card": _seed_rate_card(), "proposals": 0, "lines": 0}
    codes = {spec.client for spec in PROPOSALS}
    clients = {client.tax_code: client for client in Client.objects.filter(tax_code__in=codes).select_related("owner")}
    existing = set(
        Proposal.objects.filter(client__in=clients.values()).values_list("client__tax_code", "title").distinct()
    )
    director = User.objects.filter(role=Role.DIRECTOR, is_active=True).order_by("pk").first()
    for spec in PROPOSALS:
        if spec.client in clients and (spec.client, spec.title) not in existing:
            _Story(spec, clients[spec.client], director, rng, today, counts).tell()
    if not quiet and counts["proposals"]:
        logger.info("Demo proposals: %(proposals)s proposals, %(lines)s lines.", counts)
    return counts


def reset_proposals() -> int:
    """Delete every proposal of the demo clients (latest versions first: a version protects the one it replaced).
    The rate card stays: it is the agency's configuration."""
    from clients.demo import CLIENTS

    proposals = Proposal.objects.filter(client__tax_code__in=[spec.tax_code for spec in CLIENTS])
    deleted = 0
    while proposals.exists():
        _total, per_model = proposals.filter(next_version__isnull=True).delete()
        deleted += per_model.get("proposals.Proposal", 0)
    return deleted


def _seed_rate_card() -> int:
    departments = {department.name: department for department in Department.objects.all()}
    created = 0
    for department_name, service, unit, currency, price in RATE_CARD:
        department = departments.get(department_name)
        if department is None:
            continue
        _item, was_created = RateCardItem.objects.get_or_create(
            department=department, service=service, unit=unit, currency=currency, defaults={"price": Decimal(price)}
        )
        created += was_created
    return created


# --- One proposal ----------------------------------------------------------------------------------------------


class _Story:
    """Tells one DemoProposal through the services: create, ask for approval, send, and the client's answer."""

    def __init__(self, spec: DemoProposal, client: Client, director: User | None, rng, today: date, counts: dict):
        self.spec, self.client, self.director, self.rng, self.today = spec, client, director, rng, today
        self.owner, self.counts = client.owner, counts

    def tell(self) -> Proposal:
        spec = self.spec
        proposal = self.create()
        if spec.story == SUPERSEDED:
            copy = services.proposal_new_version(proposal=proposal, actor=self.owner)
            self.counts["proposals"] += 1
            self.counts["lines"] += copy.lines.count()
            return proposal
        if spec.story in (PENDING, APPROVED) and self.director:
            proposal = services.proposal_submit(
                proposal=proposal, actor=self.owner, note="Khách hàng chiến lược, cam kết cả năm."
            )
            if spec.story == APPROVED:
                proposal = services.proposal_approve(proposal=proposal, actor=self.director, note="Đồng ý.")
        if spec.story in (VIEWED, ACCEPTED, DECLINED, EXPIRED):
            proposal = self.send(proposal)
        return self.answer(proposal)

    def create(self) -> Proposal:
        spec, currency = self.spec, self.client.billing_currency
        deal = Contract.objects.filter(client=self.client, title=spec.deal).first() if spec.deal else None
        proposal = services.proposal_create(
            client=self.client,
            actor=self.owner,
            title=spec.title,
            contract=deal,
            recipient=self.recipient(),
            language=spec.language,
            currency=currency,
            valid_until=self.today + timedelta(days=0 if spec.story == EXPIRED else self.rng.randint(14, 45)),
            objectives=_objectives(spec),
            scope=_scope(spec),
            terms=TERMS[spec.language],
            lines=self.lines(currency),
        )
        self.counts["proposals"] += 1
        self.counts["lines"] += proposal.lines.count()
        return proposal

    def lines(self, currency: str) -> list[dict]:
        items = RateCardItem.objects.filter(service__in=self.spec.services).select_related("department")
        return [
            {
                "description": item.service,
                "department": item.department,
                "unit": item.unit,
                "quantity": Decimal(self.rng.choice([1, 1, 2, 3, 6])),
                "unit_price": (item.price * EXCHANGE[(item.currency, currency)]).quantize(Decimal("1")),
                "discount_percent": Decimal(self.spec.discount),
            }
            for item in items.order_by("department__name", "service")
        ]

    def recipient(self) -> Contact | None:
        contacts = Contact.objects.filter(client=self.client).exclude(email="").order_by("-is_decision_maker", "pk")
        return contacts.first()

    def send(self, proposal: Proposal) -> Proposal:
        return services.proposal_send(proposal=proposal, actor=self.owner)

    def answer(self, proposal: Proposal) -> Proposal:
        spec = self.spec
        if spec.story in (VIEWED, ACCEPTED):
            services.proposal_record_view(proposal=proposal, **CLIENT_TRACE)
        if spec.story == ACCEPTED:
            name = proposal.recipient.full_name if proposal.recipient else "Nguyễn Văn An"
            return services.proposal_accept(proposal=proposal, full_name=name, **CLIENT_TRACE)
        if spec.story == DECLINED:
            return services.proposal_decline(proposal=proposal, reason=spec.reason, **CLIENT_TRACE)
        if spec.story == EXPIRED:
            # Valid until today: tomorrow's sweep expires it (and only sent proposals valid until today or earlier).
            services.expire_proposals(today=self.today + timedelta(days=1))
            proposal.refresh_from_db()
        return proposal


def _objectives(spec: DemoProposal) -> str:
    if spec.language == "en":
        return f"{spec.title}: grow awareness and qualified leads among the target audience within the budget."
    return f"{spec.title}: tăng nhận biết thương hiệu và khách hàng tiềm năng trong ngân sách đã thống nhất."


def _scope(spec: DemoProposal) -> str:
    joined = ", ".join(spec.services)
    if spec.language == "en":
        return f"Agency services: {joined}. Reporting every month."
    return f"Hạng mục: {joined}. Báo cáo hiệu quả hằng tháng."
