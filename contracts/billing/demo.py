"""The demo agency's billing: the demo contracts' invoices up to today, their payments, and what finance is chasing.

What a person exploring the demo should find: most invoices paid, on time or a little late; clients that pay late,
so payment ratings run from A to D; open invoices in every aging bucket (current, 1–30, 31–60, 61–90, 90+); part
payments; an invoice voided with its reason; a write-off waiting for the director and one she approved; a disputed
invoice; a promise to pay a few days ahead; a client whose follow-ups are paused; and, on the overdue invoices,
the follow-up log (L0–L4) the daily sweep wrote, replayed day by day.

The invoices are the billing schedules' own items (``schedule.schedule_items``: the keys, days and amounts the
daily sweep uses, so the sweep finds nothing left to invoice), created and issued through the services in the order
of their days, so the numbers run with the dates. Payments, the void, write-offs, the dispute, the promise and the
pause go through the services too. Only the moments are chosen: the services stamp their rows with the moment of
the run, so those rows are dated afterwards to the day the story says it happened (as contracts/demo.py does).
Dates are relative to the day of the run; each client draws from its own random generator.

A second US-dollar contract (a one-off, so it has an invoice) is told through contracts/demo.py's own story.
"""

import random
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal

from django.db.models import IntegerField, Max
from django.db.models.functions import Cast, Substr
from django.utils import timezone

from accounts.models import Notification, User
from clients.demo import CLIENTS
from clients.models import Activity, Client
from contracts import demo as contracts_demo
from contracts.billing import collections
from contracts.billing.schedule import ScheduleItem, schedule_items
from contracts.billing.services import (
    client_set_followups_paused,
    invoice_create,
    invoice_set_dispute,
    invoice_set_promise,
    invoice_void,
    payment_record,
    write_off_decide,
    write_off_request,
)
from contracts.models import (
    OPEN_STATUSES,
    BillingSchedule,
    CollectionNotice,
    CollectionPause,
    CollectionStep,
    Contract,
    Invoice,
    InvoiceEvent,
    InvoiceNumber,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Stage,
    WriteOffRequest,
)
from core.money import Currency

SEED = "accord-demo-2026"
DEMO_CLIENTS = [spec.tax_code for spec in CLIENTS]
BILLED_STAGES = (Stage.ACTIVE, Stage.RENEWED, Stage.EXPIRED, Stage.TERMINATED)

# How late the demo clients pay, in days after the due date (drawn per invoice between the two); everyone else
# pays within days of it. The slow payers' due dates fall mid-month (45-day terms) and at month end (30 and 60), so
# the open invoices fill every aging bucket on any day of the year.
ON_TIME = (-6, 10)
LATE_PAYERS = {
    "0147075364": (38, 55),  # Ngân hàng Kinh Bắc Thịnh Vượng: approvals take weeks (B)
    "0199405574": (38, 55),  # Hồng Lam Land (B)
    "0474146590": (38, 55),  # Điện máy Sao Mai (B)
    "0171698715": (70, 88),  # Giỏ Xanh: cash is tight (C)
    "0188698791": (80, 100),  # Bánh Kẹo Hương Cốm: pays a quarter late, now reconciling its books (C)
    "0383186035": (100, 140),  # Tài chính Nhà Mới: stopped paying before it terminated (D)
    "0198486482": (150, 200),  # Dữ liệu Bắc Hà: churned, the last invoices never came in (D)
    "0178976841": (190, 240),  # Mẹ và Bé Bống: paid the advance, not the rest (D)
    "0165568154": (70, 90),  # Bảo hiểm An Khang: half on time, the rest awaits the parent company (B)
}
TWO_TRANSFERS = 0.15  # share of the paid invoices settled in two bank transfers
STORY_DAYS_AGO = 3  # the write-offs, the dispute, the promise and the pause happened this many days ago
PROMISE_DAYS_AHEAD = 6

# The second US-dollar contract: a one-off, signed about four months ago, half paid.
USD_CONTRACT = contracts_demo.DemoContract(
    "0165568154", "Annual report & investor day 2026", contracts_demo.ACTIVE, 48, billing=BillingSchedule.ONE_OFF,
    ends_in=250, rounds=1, spent=40,
)  # fmt: skip

# Rows the services stamp with the moment of the run, and the fields that hold that moment.
MOMENTS = {
    InvoiceEvent: ("created_at",),
    Payment: ("created_at", "updated_at"),
    WriteOffRequest: ("created_at", "updated_at"),
    CollectionPause: ("created_at",),
    CollectionNotice: ("created_at",),
    CollectionStep: ("created_at",),
    Activity: ("occurred_at", "created_at", "updated_at"),
    Notification: ("created_at", "updated_at"),
}
FOLLOW_UP_ROWS = (InvoiceEvent, CollectionNotice, CollectionStep, Activity, Notification)
STORY_ROWS = (InvoiceEvent, WriteOffRequest, CollectionPause, Notification)


# --- Entry points ----------------------------------------------------------------------------------------------


def seed_billing_contracts(people: dict[str, User]) -> dict[str, int]:
    """The second US-dollar contract, told like the other demo contracts; the counts seed_contracts returns."""
    counts = dict.fromkeys(("contracts", "rounds", "phases", "costs"), 0)
    client = Client.objects.filter(tax_code=USD_CONTRACT.client).select_related("owner").first()
    if client is None or Contract.objects.filter(client=client, title=USD_CONTRACT.title).exists():
        return counts
    contracts_demo._Story(USD_CONTRACT, client, people, contracts_demo._payees(), counts).tell()
    return counts


def seed_billing(people: dict[str, User]) -> dict[str, int]:
    """Invoice the demo's signed contracts that have no invoice yet, collect, and tell finance's stories.

    ``people`` maps seed_demo's e-mail local parts to the demo users. Returns how many invoices, payments,
    follow-up steps and write-off requests were created.
    """
    return _Billing(people).run()


def reset_billing() -> int:
    """Delete the demo clients' invoices with their payments and follow-ups (invoices protect their contracts);
    each year's invoice counter goes back to the highest number still used. Returns how many invoices went."""
    clients = Client.objects.filter(tax_code__in=DEMO_CLIENTS)
    invoices = Invoice.objects.filter(client__in=clients)
    Payment.objects.filter(invoice__in=invoices).delete()
    CollectionNotice.objects.filter(client__in=clients).delete()
    CollectionPause.objects.filter(client__in=clients).delete()
    _total, per_model = invoices.delete()
    for counter in InvoiceNumber.objects.all():
        used = Invoice.objects.filter(number__startswith=f"INV-{counter.year}-").aggregate(
            last=Max(Cast(Substr("number", 10), IntegerField()))
        )["last"]
        InvoiceNumber.objects.filter(pk=counter.pk).update(last=used or 0)
    return per_model.get("contracts.Invoice", 0)


# --- The run ---------------------------------------------------------------------------------------------------


class _Billing:
    """Issues the schedule items day by day, pays them as each client pays, then tells the stories."""

    def __init__(self, people: dict[str, User]):
        users = User.objects.in_bulk([user.pk for user in people.values()])
        self.people = {key: users[user.pk] for key, user in people.items()}
        self.finance, self.director = self.people["finance"], self.people["director"]
        self.started = timezone.now()  # rows stamped since are this run's: dated() dates them
        self.today = timezone.localdate(self.started)
        self.story_day = self.today - timedelta(days=STORY_DAYS_AGO)
        self.counts = dict.fromkeys(("invoices", "payments", "follow_ups", "write_offs"), 0)
        self.rngs: dict[str, random.Random] = {}

    def run(self) -> dict[str, int]:
        contracts = self.contracts_to_bill()
        if not contracts:
            return self.counts
        demo_only = not Invoice.objects.exclude(client__tax_code__in=DEMO_CLIENTS).exists()
        invoices = self.issue(contracts)
        for code, group in _by_client(invoices).items():
            self.collect(code, group)
        stories = _by_client(invoices)
        self.early_stories(stories)
        if demo_only:  # the sweep takes every client's invoices: on a database holding more, replay nothing
            self.replay_follow_ups(until=self.story_day)
        self.recent_stories(stories)
        if demo_only:
            self.replay_follow_ups(since=self.story_day, until=self.today)
        return self.counts

    def contracts_to_bill(self) -> list[Contract]:
        return list(
            Contract.objects.filter(client__tax_code__in=DEMO_CLIENTS, stage__in=BILLED_STAGES, invoices__isnull=True)
            .select_related("client", "client__owner")
            .prefetch_related("phases")
            .order_by("pk")
        )

    # --- Invoices --------------------------------------------------------------------------------------------

    def issue(self, contracts: list[Contract]) -> list[Invoice]:
        """Every schedule item whose day has come, and one invoice raised by hand, in the order of their days."""
        items = [(item, contract) for contract in contracts for item in self.due_items(contract)]
        items += self.raised_by_hand(contracts)
        items.sort(key=lambda pair: (pair[0].day, pair[1].pk, pair[0].key))
        return [self.create(contract, item) for item, contract in items]

    def due_items(self, contract: Contract) -> list[ScheduleItem]:
        last_day = self.today
        if contract.stage == Stage.TERMINATED:  # nothing is billed after a termination
            last_day = min(last_day, timezone.localdate(contract.stage_changed_at))
        return [
            item
            for item in schedule_items(contract)
            if item.day is not None and item.day <= last_day and item.amount > 0
        ]

    def raised_by_hand(self, contracts: list[Contract]) -> list[tuple[ScheduleItem, Contract]]:
        """Chợ Phố's livestream costs, invoiced by hand on last month's retainer day (and voided: see below)."""
        contract = next((c for c in contracts if c.client.tax_code == "0346425246" and c.stage == Stage.ACTIVE), None)
        days = sorted(item.day for item in self.due_items(contract)) if contract else []
        if len(days) < 2:
            return []
        day = days[-2]
        description = f"{contract.number} · Chi phí livestream phát sinh tháng {day:%m/%Y}"
        return [(ScheduleItem("", day, Decimal(85_000_000), description), contract)]

    def create(self, contract: Contract, item: ScheduleItem) -> Invoice:
        by_hand = not item.key
        moment = self.at(item.day, 14, 20) if by_hand else self.at(item.day, 7, 0)  # the sweep runs at 07:00
        with self.dated(moment, InvoiceEvent):
            invoice = invoice_create(
                contract=contract,
                actor=self.finance if by_hand else None,  # None: the billing-schedule sweep
                net_amount=item.amount,
                description=item.description,
                issue_date=item.day,
                phase=item.phase,
                schedule_key=item.key,
                issue=True,
            )
        Invoice.objects.filter(pk=invoice.pk).update(created_at=moment, issued_at=moment)
        Invoice.history.filter(id=invoice.pk).update(created_at=moment, issued_at=moment)  # as it was made
        self.counts["invoices"] += 1
        return invoice

    # --- Payments ----------------------------------------------------------------------------------------------

    def collect(self, code: str, invoices: list[Invoice]) -> None:
        """Each invoice paid as its client pays: some days after the due date, once that day has come."""
        rng = self.rng(code)
        late = LATE_PAYERS.get(code, ON_TIME)
        for invoice in invoices:
            if not invoice.schedule_key:
                continue  # the invoice raised by hand is voided
            day = max(invoice.due_date + timedelta(days=rng.randint(*late)), invoice.issue_date)
            if day > self.today:
                continue
            if rng.random() < TWO_TRANSFERS:
                first = _part(invoice.gross_amount, 50, invoice.currency)
                self.pay(invoice, first, max(day - timedelta(days=rng.randint(7, 20)), invoice.issue_date))
                self.pay(invoice, invoice.gross_amount - first, day)
            else:
                self.pay(invoice, invoice.gross_amount, day)

    def pay(self, invoice: Invoice, amount: Decimal, day: date) -> Payment:
        rng = self.rng(invoice.client.tax_code)
        with self.dated(self.at(day, rng.randint(9, 16), rng.randint(0, 59)), InvoiceEvent, Payment):
            payment = payment_record(
                invoice=invoice,
                actor=self.finance,
                amount=amount,
                received_on=day,
                method=PaymentMethod.BANK_TRANSFER if rng.random() < 0.95 else PaymentMethod.OTHER,
                reference=f"FT{day:%y%j}{rng.randint(10000, 99999)}",
            )
        self.counts["payments"] += 1
        return payment

    # --- Stories -----------------------------------------------------------------------------------------------

    def early_stories(self, invoices: dict[str, list[Invoice]]) -> None:
        """What happened before the follow-ups went out: part payments and the voided duplicate."""
        advance = _first(_open(invoices.get("0178976841", [])))  # Mẹ và Bé Bống paid the 50 % advance only
        if advance:
            self.pay(advance, _part(advance.gross_amount, 50, advance.currency), advance.issue_date + timedelta(5))
        dollars = _first(_open(invoices.get("0165568154", [])))  # An Khang: half of the US-dollar invoice
        if dollars:
            day = max(min(dollars.due_date - timedelta(days=2), self.today), dollars.issue_date)
            self.pay(dollars, _part(dollars.gross_amount, 50, dollars.currency), day)
        first = _first(_open(invoices.get("0348754750", [])), newest=True)  # Phương Nam Số: a first transfer
        if first:
            day = min(first.issue_date + timedelta(days=10), self.today)
            self.pay(first, _part(first.gross_amount, 40, first.currency), day)
        settlement = _first(_open(invoices.get("0383186035", [])))  # Nhà Mới: 40 % before the termination
        if settlement:
            day = min(settlement.due_date + timedelta(days=20), self.story_day)
            self.pay(settlement, _part(settlement.gross_amount, 40, settlement.currency), day)
        self.void_the_duplicate(invoices.get("0346425246", []))

    def void_the_duplicate(self, invoices: list[Invoice]) -> None:
        duplicate = next((invoice for invoice in invoices if not invoice.schedule_key), None)
        if duplicate is None:
            return
        day = duplicate.issue_date + timedelta(days=1)
        month = f"{duplicate.issue_date:%m/%Y}"
        with self.dated(self.at(day, 10, 15), InvoiceEvent):
            invoice_void(
                invoice=duplicate,
                actor=self.finance,
                reason=f"Xuất trùng: chi phí livestream tháng {month} đã nằm trong phí retainer của tháng; "
                "khách hàng đề nghị hủy hóa đơn.",
            )
        Invoice.objects.filter(pk=duplicate.pk).update(closed_on=day)

    def recent_stories(self, invoices: dict[str, list[Invoice]]) -> None:
        """Finance's work of the last days: two write-offs, a dispute, a promise to pay, a pause."""
        with self.dated(self.at(self.story_day, 10, 30), *STORY_ROWS):
            self.write_offs(invoices)
            disputed = _first(_overdue(_open(invoices.get("0147075364", [])), self.today), newest=True)
            if disputed:
                invoice_set_dispute(
                    invoice=disputed,
                    actor=disputed.client.owner,
                    disputed=True,
                    note=f"Khách hàng cho rằng tháng {disputed.issue_date:%m/%Y} thiếu 2 vị trí OOH so với kế "
                    "hoạch; chờ đối soát biên bản nghiệm thu.",
                )
            promised = _first(_overdue(_open(invoices.get("0171698715", [])), self.today))
            if promised:
                invoice_set_promise(
                    invoice=promised,
                    actor=self.finance,
                    promise_to_pay=self.today + timedelta(days=PROMISE_DAYS_AHEAD),
                    note="Kế toán trưởng hẹn chuyển khoản sau khi nhận hóa đơn điều chỉnh địa chỉ.",
                )
            paused = invoices.get("0188698791")
            if paused:
                client = paused[0].client
                client_set_followups_paused(
                    client=client,
                    actor=client.owner,
                    paused=True,
                    reason="Khách hàng đang đối chiếu công nợ cuối năm; tạm dừng nhắc nợ đến khi hai bên chốt số liệu.",
                )

    def write_offs(self, invoices: dict[str, list[Invoice]]) -> None:
        """Nhà Mới's settlement: the rest of its part-paid invoice written off with the director's approval.
        Bắc Hà, churned: finance asks to write off its oldest unpaid invoice; the director has not decided yet."""
        settled = next(
            (i for i in _open(invoices.get("0383186035", [])) if i.status == InvoiceStatus.PARTIALLY_PAID), None
        )
        if settled:
            request = write_off_request(
                invoice=settled,
                actor=self.finance,
                reason="Thanh lý hợp đồng chấm dứt trước hạn: khách hàng thanh toán 40 %, hai bên thống nhất không "
                "thu phần còn lại.",
            )
            write_off_decide(request=request, actor=self.director, approve=True, note="Đồng ý theo biên bản thanh lý.")
            self.counts["write_offs"] += 1
        unpaid = _first(_open(invoices.get("0198486482", [])))
        if unpaid:
            write_off_request(
                invoice=unpaid,
                actor=self.finance,
                reason="Khách hàng đã ngừng hợp tác; ba lần nhắc nợ và thư báo cuối không phản hồi. Đề nghị xóa nợ.",
            )
            self.counts["write_offs"] += 1
        moment = self.at(self.story_day, 10, 30)
        WriteOffRequest.objects.filter(decided_at__isnull=False, invoice__client__tax_code="0383186035").update(
            decided_at=moment
        )
        Invoice.objects.filter(status=InvoiceStatus.WRITTEN_OFF, client__tax_code="0383186035").update(
            closed_on=self.story_day
        )

    # --- Follow-ups ----------------------------------------------------------------------------------------------

    def replay_follow_ups(self, *, until: date, since: date | None = None) -> None:
        """Run the daily follow-up sweep on each past day a level came due for an open invoice (other days it has
        nothing to do), dating what it wrote to that morning."""
        for day in self.follow_up_days(since, until):
            with self.dated(self.at(day, 9, 0), *FOLLOW_UP_ROWS):
                self.counts["follow_ups"] += collections.send_follow_ups(today=day)

    def follow_up_days(self, since: date | None, until: date) -> list[date]:
        offsets = [first_day for _level, first_day in collections.LEVEL_DAYS]
        due_dates = Invoice.objects.filter(client__tax_code__in=DEMO_CLIENTS, status__in=OPEN_STATUSES).values_list(
            "due_date", flat=True
        )
        days = {due + timedelta(days=offset) for due in set(due_dates) for offset in offsets}
        return sorted(day for day in days if (since is None or day >= since) and day < until)

    # --- Moments -------------------------------------------------------------------------------------------------

    def at(self, day: date, hour: int, minute: int) -> datetime:
        """That moment of ``day``; one later than the start of the run (today's) is just before it."""
        moment = timezone.make_aware(datetime.combine(day, time(hour, minute)))
        return min(moment, self.started - timedelta(seconds=1))

    @contextmanager
    def dated(self, moment: datetime, *models):
        """Date the rows of ``models`` the block creates to ``moment``, not the moment of the run: every row this
        run stamped since it started was made in the block (earlier ones were dated already); and the audit history
        the block wrote."""
        block_started = timezone.now()
        yield
        for model in models:
            model.objects.filter(created_at__gte=self.started).update(**dict.fromkeys(MOMENTS[model], moment))
        # The audit history the block wrote (the invoice issued or settled, the payment) happened then too.
        for model in {Invoice, *models}:
            if hasattr(model, "history"):
                kept = {field.name for field in model.history.model._meta.fields}  # updated_at is not kept
                fields = {name: moment for name in MOMENTS.get(model, ()) if name in kept}
                model.history.filter(history_date__gte=block_started).update(history_date=moment, **fields)

    def rng(self, code: str) -> random.Random:
        if code not in self.rngs:
            self.rngs[code] = random.Random(f"{SEED}:billing:{code}")  # noqa: S311 - demo data, not security
        return self.rngs[code]


# --- Helpers ---------------------------------------------------------------------------------------------------


def _by_client(invoices: list[Invoice]) -> dict[str, list[Invoice]]:
    """The invoices (fresh from the database) per client tax code, oldest first."""
    fresh = Invoice.objects.filter(pk__in=[invoice.pk for invoice in invoices]).select_related("client__owner")
    grouped: dict[str, list[Invoice]] = {}
    for invoice in fresh.order_by("issue_date", "pk"):
        grouped.setdefault(invoice.client.tax_code, []).append(invoice)
    return grouped


def _open(invoices: list[Invoice]) -> list[Invoice]:
    fresh = Invoice.objects.filter(pk__in=[invoice.pk for invoice in invoices], status__in=OPEN_STATUSES)
    return list(fresh.select_related("client__owner").order_by("issue_date", "pk"))


def _overdue(invoices: list[Invoice], today: date) -> list[Invoice]:
    return [invoice for invoice in invoices if invoice.due_date < today]


def _first(invoices: list[Invoice], *, newest: bool = False) -> Invoice | None:
    return (invoices[-1] if newest else invoices[0]) if invoices else None


def _part(amount: Decimal, percent: int, currency: str) -> Decimal:
    """``percent`` of ``amount``, down to a round figure: a million đồng, a hundred dollars."""
    step = Decimal(1_000_000) if currency == Currency.VND else Decimal(100)
    return max((amount * percent / 100 / step).quantize(Decimal(1), rounding=ROUND_DOWN) * step, step)
