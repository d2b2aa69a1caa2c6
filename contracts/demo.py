"""The demo agency's contracts: deals in every stage on the demo clients, written through the contracts services.

What a person exploring the demo should find: a pipeline shared with sales (some deals idle for weeks), contracts
expiring soon (notice deadlines within 7, 30, 60 and 90 days), budgets past 80 % and 100 %, negotiation rounds,
delivery phases with results reports, a renewal chain, and contracts that expired, were terminated or lost.

The rules, numbers and notifications are the services' own; only the moments are chosen: signature, start and end
dates are passed to the services, and the stage-change rows are dated afterwards to when the story says the move
happened (the services stamp them with the moment of the run). Dates are relative to the day of the run, so the
deadlines stay "soon" whenever the demo is built. Each contract draws from its own random generator.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from clients.demo import CLIENTS, PARTNERS
from clients.models import Client, Department, Partner
from contracts.models import BillingSchedule, Contract, ContractKind, ProposedBy, Stage, StageChange
from contracts.services import (
    contract_create,
    contract_move,
    contract_renew,
    cost_record,
    phase_save,
    round_record,
)
from core.money import Currency

SEED = "accord-demo-2026"
DRAFT, NEGOTIATION, AWAITING, LOST = "draft", "negotiation", "awaiting", "lost"
ACTIVE, RENEWAL_DRAFT, RENEWED, EXPIRED, TERMINATED = "active", "renewal_draft", "renewed", "expired", "terminated"
UPSELL, RETAINER, MILESTONES = ContractKind.UPSELL, BillingSchedule.MONTHLY_RETAINER, BillingSchedule.MILESTONES
UNIT = {Currency.VND: Decimal(1_000_000), Currency.USD: Decimal(1_000)}


@dataclass(frozen=True)
class DemoContract:
    client: str  # tax code of a demo client
    title: str
    story: str  # how far it got: draft, negotiation, awaiting, lost, active, renewal_draft, renewed, ...
    value: int  # millions of đồng (thousands of dollars for a USD client)
    owner: str = ""  # a person's key in seed_demo.PEOPLE when not the client's owner (sales deals)
    kind: str = ContractKind.NEW_BUSINESS
    billing: str = BillingSchedule.ONE_OFF
    ends_in: int = 0  # signed stories: days from the run to the end date (negative: ended that long ago)
    notice_days: int = 30
    auto_renew: bool = False
    spent: int = 0  # percent of the budget spent so far (cost entries)
    rounds: int = 0
    phases: int = 0
    idle_days: int = 0  # pipeline stories: days in the current stage
    reason: str = ""  # why it was lost, or why a director terminated it


D = DemoContract
CONTRACTS = [
    # The pipeline: prospects worked by sales, upsells sales found on managed accounts, the AMs' own deals.
    D("0286452919", "Ra mắt chứng chỉ quỹ mở – Digital", DRAFT, 450, idle_days=21),
    D("0370283828", "Sự kiện mở bán Vạn An Residences", NEGOTIATION, 1800, rounds=2),
    D("0387718844", "Nhận diện thương hiệu Én Bạc 2027", AWAITING, 950, rounds=3),
    D("0458538015", "Khai trương siêu thị Phố Hội", LOST, 600, rounds=2,
      reason="Khách hàng chọn agency địa phương với chi phí thấp hơn."),
    D("0270037032", "Chiến dịch cáp quang doanh nghiệp", DRAFT, 700),
    D("1847058609", "eSIM launch campaign", NEGOTIATION, 1200, rounds=1, idle_days=25),
    D("0171698715", "Upsell: livestream bán hàng cuối tuần", NEGOTIATION, 380, owner="sales.nhu", kind=UPSELL,
      rounds=2),
    D("0346425246", "Upsell: siêu sale 12.12 – KOC", AWAITING, 820, owner="sales.khoi", kind=UPSELL, rounds=2),
    D("0145881390", "TVC Tết 2027 – Sum vầy", NEGOTIATION, 3200, kind=UPSELL, rounds=3),
    D("0346229481", "Ra mắt vị mới 2027", DRAFT, 1500, idle_days=16),
    D("0392080733", "Mở bán phân khu Hoa Sữa", AWAITING, 2100, rounds=2, idle_days=18),
    D("0484506041", "Hội thảo nhà đầu tư Đà Nẵng", LOST, 900, rounds=1,
      reason="Dự án tạm dừng mở bán; khách hàng hoãn ngân sách marketing sang năm sau."),
    D("0378205250", "Performance Q1/2027", NEGOTIATION, 650, rounds=2, idle_days=17),
    D("0173091147", "Social always-on 2027", DRAFT, 320),
    D("0346105503", "KOL mùa hè 2026", LOST, 420, rounds=2, reason="Ngân sách marketing quý bị cắt 40%."),
    # Signed and running; budgets past 80 % and 100 %.
    D("0348754750", "Retainer Digital 2026–2027", ACTIVE, 6000, billing=RETAINER, ends_in=200, spent=85, rounds=2,
      phases=3),
    D("0147075364", "Retainer OOH và thương hiệu 2026", ACTIVE, 4800, billing=RETAINER, ends_in=150, spent=104,
      rounds=3, phases=3),
    D("0343301757", "Gói cước 5G gia đình – IMC", ACTIVE, 5200, billing=MILESTONES, ends_in=240, spent=45, rounds=2,
      phases=3),
    D("0199405574", "Sự kiện ra mắt nhà mẫu", ACTIVE, 2600, billing=MILESTONES, ends_in=120, spent=92, rounds=2,
      phases=3),
    D("0346425246", "Performance và livestream 2026", ACTIVE, 3900, billing=RETAINER, ends_in=280, spent=60,
      phases=3),
    D("0165568154", "Brand PR & CSR 2026", ACTIVE, 185, billing=MILESTONES, ends_in=210, spent=30, rounds=2,
      phases=2),
    D("0152081966", "Retainer TVC 2026", ACTIVE, 4200, billing=RETAINER, ends_in=300, notice_days=60,
      auto_renew=True, spent=50, phases=3),
    D("0148844728", "Digital 2026", ACTIVE, 900, billing=RETAINER, ends_in=180, spent=35, phases=2),
    D("0178976841", "KOL Mẹ và Bé 2026", ACTIVE, 1100, ends_in=160, spent=70, rounds=1, phases=2),
    # Expiring: notice deadlines within 7, 30, 60 and 90 days (one with its renewal already drafted).
    D("0188698791", "Trade marketing 2026", ACTIVE, 1600, billing=RETAINER, ends_in=35, spent=78, phases=3),
    D("0276663639", "Sampling và TVC 2026", ACTIVE, 1300, billing=MILESTONES, ends_in=6, notice_days=0, spent=88,
      phases=3),
    D("0376283609", "Social và sự kiện 2026", ACTIVE, 1450, billing=RETAINER, ends_in=55, auto_renew=True,
      spent=64, phases=3),
    D("0172731771", "Sản xuất TVC và PR 2026", RENEWAL_DRAFT, 2300, billing=MILESTONES, ends_in=50, spent=75,
      phases=3),
    D("0474146590", "OOH miền Trung 2026", ACTIVE, 2000, ends_in=110, notice_days=60, spent=58, phases=2),
    D("0171698715", "Performance 2026", ACTIVE, 1250, billing=RETAINER, ends_in=110, spent=81, rounds=2, phases=3),
    D("0352646860", "KOL và sự kiện mở bán", ACTIVE, 1700, ends_in=100, spent=40, phases=2),
    # Renewal chains: the successor was signed, so the contract it renews is renewed.
    D("0145881390", "Retainer thương hiệu", RENEWED, 5400, billing=RETAINER, ends_in=-30, spent=97, rounds=2,
      phases=3),
    D("0388369579", "Performance ví điện tử", RENEWED, 2200, billing=RETAINER, ends_in=-75, spent=99, phases=2),
    # Ended.
    D("0198486482", "Retainer dữ liệu và PR 2025", EXPIRED, 1400, billing=RETAINER, ends_in=-120, spent=96,
      phases=2),
    D("0179788093", "Social 2025", EXPIRED, 520, billing=RETAINER, ends_in=-40, spent=90, phases=2),
    D("0383186035", "Performance vay tiêu dùng 2026", TERMINATED, 1900, billing=RETAINER, ends_in=150, spent=55,
      rounds=1, phases=3,
      reason="Khách hàng chấm dứt trước hạn sau sự cố chậm xử lý; hai bên thống nhất thanh lý hợp đồng."),
]  # fmt: skip

SIGNED = {ACTIVE, RENEWAL_DRAFT, RENEWED, EXPIRED, TERMINATED}
CONTRACT_LENGTH = timedelta(days=364)
SCOPES = {
    DRAFT: "Phạm vi sơ bộ theo brief; chờ khách hàng xác nhận ngân sách.",
    "signed": "Chiến lược, sản xuất nội dung, mua media và báo cáo hiệu quả hằng tháng.",
}
PHASES = [
    ("Nghiên cứu và chiến lược", "Insight, big idea, kế hoạch truyền thông được duyệt", 25),
    ("Sản xuất", "Key visual, TVC 30s và bộ nội dung social", 45),
    ("Triển khai và đo lường", "Reach 12 triệu, CTR 1,8 %, 3.500 khách hàng tiềm năng", 30),
]
REPORTS = [
    "Đạt {share}% chỉ tiêu giai đoạn. Khách hàng duyệt ở vòng {round}; đề xuất giữ nhịp nội dung như hiện tại.",
    "Hoàn thành đúng hạn, vượt {share}% chỉ tiêu reach; chi phí sản xuất trong ngân sách giai đoạn.",
]
COSTS = [
    ("Creative", "Concept và key visual"),
    ("Production house", "Quay TVC và hậu kỳ"),
    ("Media", "Mua media tháng cao điểm"),
    ("Digital", "Quảng cáo social và tối ưu chuyển đổi"),
    ("Planning", "Nghiên cứu người tiêu dùng"),
]
PARTNER_COSTS = [
    ("Nhà Phim Gió Bấc", "Sản xuất TVC 30s"),
    ("Màn Hình Xanh OOH", "Thuê màn hình LED tòa nhà"),
    ("Mạng lưới KOL Cầu Vồng", "Booking KOL đợt 1"),
    ("In Ấn Phú Gia", "In POSM và standee"),
]
RENEWAL_SPENT = 15  # percent of its budget a renewal signed a few weeks ago has used
DRAFTING_DAYS = 7  # a deal was written up this many days before it first moved on from draft


# --- Entry points ----------------------------------------------------------------------------------------------


def seed_contracts(people: dict[str, User]) -> dict[str, int]:
    """Create the demo contracts that do not exist yet (keyed by client and title), with rounds, phases and costs.

    ``people`` maps seed_demo's e-mail local parts to the demo users. Returns how many contracts (successors
    included), negotiation rounds, phases and cost entries were created.
    """
    users = User.objects.in_bulk([user.pk for user in people.values()])
    people = {key: users[user.pk] for key, user in people.items()}
    codes = {spec.client for spec in CONTRACTS}
    clients = {client.tax_code: client for client in Client.objects.filter(tax_code__in=codes).select_related("owner")}
    existing = set(
        Contract.objects.filter(client__in=clients.values(), renewal_of__isnull=True).values_list(
            "client__tax_code", "title"
        )
    )
    payees = _payees()
    counts = dict.fromkeys(("contracts", "rounds", "phases", "costs"), 0)
    for spec in CONTRACTS:
        if spec.client in clients and (spec.client, spec.title) not in existing:
            _Story(spec, clients[spec.client], people, payees, counts).tell()
    return counts


def reset_contracts() -> int:
    """Delete every contract of the demo clients (with what hangs off them); renewals before what they renew."""
    contracts = Contract.objects.filter(client__tax_code__in=[spec.tax_code for spec in CLIENTS])
    deleted = 0
    while contracts.exists():
        _total, per_model = contracts.filter(successor__isnull=True).delete()
        deleted += per_model.get("contracts.Contract", 0)
    return deleted


def _payees() -> dict[str, object]:
    payees: dict[str, object] = {department.name: department for department in Department.objects.all()}
    partner_names = {spec.name for spec in PARTNERS} & {name for name, _description in PARTNER_COSTS}
    payees.update({partner.name: partner for partner in Partner.objects.filter(name__in=partner_names)})
    return payees


# --- One contract ---------------------------------------------------------------------------------------------


class _Story:
    """Tells one DemoContract through the services: create, negotiate, sign, deliver, end or renew."""

    def __init__(self, spec: DemoContract, client: Client, people: dict, payees: dict, counts: dict):
        self.spec, self.client, self.payees, self.counts = spec, client, payees, counts
        self.owner = people[spec.owner] if spec.owner else client.owner
        self.director = people["director"]
        self.today = timezone.localdate()
        self.rng = random.Random(f"{SEED}:{spec.client}:{spec.title}")  # noqa: S311 - demo data, not security
        self.unit = UNIT[client.billing_currency]

    def tell(self) -> Contract:
        contract = self.story()
        self.date_creation(contract)
        return contract

    def story(self) -> Contract:
        spec = self.spec
        contract = self.create()
        if spec.story == DRAFT:
            self.date_stage(contract, spec.idle_days)
            return contract
        signed = spec.story in SIGNED
        start = contract.start_date
        contract = self.move(contract, Stage.NEGOTIATION, (start - timedelta(days=40)) if signed else self.ago(30))
        self.negotiate(contract)
        if spec.story == NEGOTIATION:
            return self.date_stage(contract, spec.idle_days)
        if spec.story == AWAITING:
            return self.move(contract, Stage.AWAITING_SIGNATURE, self.ago(spec.idle_days or 4))
        if spec.story == LOST:
            return self.move(contract, Stage.LOST, self.ago(9), lost_reason=spec.reason)
        contract = self.sign(contract, start - timedelta(days=6))
        self.deliver(contract, spec.spent)
        return self.end(contract)

    def create(self) -> Contract:
        spec, signed = self.spec, self.spec.story in SIGNED
        end = self.today + timedelta(days=spec.ends_in) if signed else None
        value = self.money(spec.value)
        contract = contract_create(
            client=self.client,
            actor=self.owner,
            title=spec.title,
            kind=spec.kind,
            value=value,
            currency=self.client.billing_currency,
            budget=self.money(spec.value * Decimal("0.6")),
            billing_schedule=spec.billing,
            payment_terms_days=self.client.payment_terms_days,
            expected_close=(end - CONTRACT_LENGTH) if signed else self.today + timedelta(days=self.rng.randint(20, 75)),
            start_date=(end - CONTRACT_LENGTH) if signed else None,
            end_date=end,
            auto_renew=spec.auto_renew,
            notice_days=spec.notice_days,
            scope=SCOPES["signed" if signed else DRAFT],
        )
        self.counts["contracts"] += 1
        return contract

    def negotiate(self, contract: Contract, rounds: int | None = None) -> None:
        """Offer, counter-offer, agreement: the last round's value is the contract's."""
        value = contract.value
        steps = [
            (ProposedBy.AGENCY, value * Decimal("1.10"), Decimal("0"), "Đề xuất ban đầu theo brief"),
            (ProposedBy.CLIENT, value * Decimal("0.90"), Decimal("12"), "Khách hàng đề nghị giảm giá, bớt một KOL"),
            (ProposedBy.AGENCY, value, Decimal("5"), "Chốt phạm vi: giữ KOL, giảm số lần phát sóng"),
        ]
        count = self.spec.rounds if rounds is None else rounds
        for proposed_by, amount, discount, scope in steps[len(steps) - count :]:
            round_record(
                contract=contract,
                actor=self.owner,
                proposed_by=proposed_by,
                value=self.money(amount / self.unit),
                discount_percent=discount,
                payment_terms_days=contract.payment_terms_days,
                scope_summary=scope,
            )
            self.counts["rounds"] += 1

    def sign(self, contract: Contract, on: date) -> Contract:
        return self.move(contract, Stage.ACTIVE, on, signed_at=self.at_work(on))

    def deliver(self, contract: Contract, spent: int) -> None:
        """Phases across the contract's year (reports on those done), then costs up to ``spent`` % of the budget."""
        phases = []
        plan = PHASES[-self.spec.phases :] if self.spec.phases else []
        share_total = sum(share for _name, _planned, share in plan) or 1
        start, days = contract.start_date, (contract.end_date - contract.start_date).days
        for order, (name, planned, share) in enumerate(plan, start=1):
            planned_start = start
            planned_end = start + timedelta(days=days * share // share_total)
            start = planned_end + timedelta(days=1)
            phases.append(self.phase(contract, order, name, planned, planned_start, planned_end, share, share_total))
        self.spend(contract, [phase for phase in phases if phase.actual_start], spent)

    def phase(self, contract, order, name, planned, planned_start, planned_end, share, share_total):
        actual_start = planned_start + timedelta(days=self.rng.randint(0, 4))
        actual_end = planned_end + timedelta(days=self.rng.randint(-2, 6))
        done = actual_end < self.today
        report = ""
        if done:
            template = self.rng.choice(REPORTS)
            report = template.format(share=self.rng.randint(92, 118), round=self.rng.randint(1, 3))
        phase = phase_save(
            contract=contract,
            actor=self.owner,
            name=f"Giai đoạn {order}: {name}",
            order=order,
            planned_start=planned_start,
            planned_end=planned_end,
            actual_start=actual_start if actual_start <= self.today else None,
            actual_end=actual_end if done else None,
            budget=(contract.budget * share / share_total).quantize(Decimal("1")),
            planned_results=planned,
            achieved_results=planned.replace("12", "13,4") if done else "",
            report=report,
        )
        self.counts["phases"] += 1
        return phase

    def spend(self, contract: Contract, phases: list, spent: int) -> None:
        """Four cost entries adding up to ``spent`` % of the budget, by departments and partners, over time."""
        target = (contract.budget * spent / 100).quantize(Decimal("1"))
        if not target:
            return
        weights = [self.rng.randint(2, 6) for _ in range(4)]
        amounts = [(target * weight / sum(weights)).quantize(Decimal("1")) for weight in weights[:-1]]
        amounts.append(target - sum(amounts))  # the last entry takes the rounding, so the total is exact
        last_day = min(self.today, contract.end_date)
        span = max((last_day - contract.start_date).days, 0)
        for index, amount in enumerate(amounts):
            department, description = self.rng.choice(COSTS)
            partner_name, partner_description = self.rng.choice(PARTNER_COSTS)
            partner = self.payees.get(partner_name) if index % 2 else None
            incurred_on = contract.start_date + timedelta(days=span * (index + 1) // len(amounts))
            started = [phase for phase in phases if phase.actual_start <= incurred_on]
            cost_record(
                contract=contract,
                actor=self.owner,
                phase=started[-1] if started else None,
                department=None if partner else self.payees[department],
                partner=partner,
                description=partner_description if partner else description,
                amount=amount,
                incurred_on=incurred_on,
            )
            self.counts["costs"] += 1

    def end(self, contract: Contract) -> Contract:
        spec = self.spec
        if spec.story == EXPIRED:
            return self.move(contract, Stage.EXPIRED, contract.end_date + timedelta(days=1))
        if spec.story == TERMINATED:
            return self.move(contract, Stage.TERMINATED, self.ago(12), actor=self.director, note=spec.reason)
        if spec.story in (RENEWAL_DRAFT, RENEWED):
            successor = contract_renew(contract=contract, actor=self.owner)
            self.counts["contracts"] += 1
            if spec.story == RENEWED:
                self.renew(contract, successor)
            else:
                self.date_creation(successor)
        return contract

    def renew(self, contract: Contract, successor: Contract) -> None:
        """Negotiate and sign the successor before the old contract's end: the old one becomes renewed."""
        self.move(successor, Stage.NEGOTIATION, contract.end_date - timedelta(days=45))
        self.negotiate(successor, rounds=1)
        successor = self.sign(successor, contract.end_date - timedelta(days=10))
        self.date_last_change(contract, contract.end_date - timedelta(days=10))
        self.date_creation(successor)
        self.deliver(successor, RENEWAL_SPENT)

    # --- Moments ---------------------------------------------------------------------------------------------

    def move(self, contract: Contract, to: str, on: date, *, actor: User | None = None, **fields) -> Contract:
        contract = contract_move(contract=contract, to=to, actor=actor or self.owner, **fields)
        self.date_last_change(contract, on)
        return contract

    def date_last_change(self, contract: Contract, on: date) -> None:
        moment = self.at_work(on)
        change = StageChange.objects.filter(contract=contract).order_by("-id").first()
        StageChange.objects.filter(pk=change.pk).update(changed_at=moment)
        Contract.objects.filter(pk=contract.pk).update(stage_changed_at=moment)
        contract.stage_changed_at = moment
        latest = Contract.history.filter(id=contract.pk).order_by("-history_id").values_list("pk", flat=True)[:1]
        Contract.history.filter(pk__in=list(latest)).update(history_date=moment)  # the move's audit entry

    def date_creation(self, contract: Contract) -> None:
        """Date the deal's creation before every move the story dated: contract_create stamps the moment of the run,
        and a deal created "now" but signed months ago would take negative days to close (a KPI). A draft was
        created when its stage began; any other deal DRAFTING_DAYS before its first move."""
        first_move = StageChange.objects.filter(contract=contract).order_by("changed_at").first()
        if first_move is None:
            moment = Contract.objects.values_list("stage_changed_at", flat=True).get(pk=contract.pk)
        else:
            moment = first_move.changed_at - timedelta(days=DRAFTING_DAYS)
        Contract.objects.filter(pk=contract.pk).update(created_at=moment)
        contract.created_at = moment
        Contract.history.filter(id=contract.pk).update(created_at=moment)  # its audit history shows it made then
        Contract.history.filter(id=contract.pk, history_type="+").update(history_date=moment)

    def date_stage(self, contract: Contract, idle_days: int) -> Contract:
        """A deal left in its stage for ``idle_days`` (the board highlights it past the stage's limit)."""
        if not idle_days:
            return contract
        if contract.stage == Stage.DRAFT:
            moment = self.at_work(self.ago(idle_days))
            Contract.objects.filter(pk=contract.pk).update(stage_changed_at=moment)
            contract.stage_changed_at = moment
        else:
            self.date_last_change(contract, self.ago(idle_days))
        return contract

    def ago(self, days: int) -> date:
        return self.today - timedelta(days=days)

    def at_work(self, day: date) -> datetime:
        moment = timezone.make_aware(datetime.combine(day, time(9, 30)))
        return min(moment, timezone.now())

    def money(self, amount) -> Decimal:
        """``amount`` in millions of đồng (thousands of dollars), as money: whole millions (whole dollars)."""
        step = Decimal(1_000_000) if self.unit == UNIT[Currency.VND] else Decimal(1)
        return (Decimal(amount) * self.unit / step).quantize(Decimal("1")) * step
