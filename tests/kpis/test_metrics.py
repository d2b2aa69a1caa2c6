"""Every KPI against a small data set computed by hand (DOMAIN.md, "KPIs and dashboards").

The agency: team North (Lan, Hà) and team South (Minh). Money in đồng (VND) and dollars (USD), never added together.
The periods: September 2026, its quarter (Q3: July–September, 92 days) and the year 2026. The agency's clock is
Hanoi time (UTC+7): Lan's upsell signed at 23:30 on 30 September counts in September, Minh's contract signed at
00:30 on 1 October counts in October (both are 30 September in UTC).

Contracts (value · created → signed · stage · start–end):
  Lan   L0 K1 new      VND 100M   2024-11-20 → 2024-12-01           expired  2024-12-01 – 2025-08-31
        L1 K1 new      VND 600M   2025-08-01 → 2025-09-01           renewed  2025-09-01 – 2026-09-15
        L2 K1 renewal  VND 720M   2026-08-16 → 2026-09-10 (25 days) active   2026-09-16 – 2027-09-15 (renews L1)
        L3 K1 upsell   VND 150M   2026-09-20 23:30 → 09-30 23:30 (10) active   2026-10-01 – 2027-03-31
        L4 K5 new      USD 12,000 2026-08-06 → 2026-09-05 (30 days) active   2026-09-06 – 2027-09-05
        L5 K2 new      VND 400M   2025-02-10 → 2025-03-01           expired  2025-03-01 – 2026-09-30 (no successor)
        L6 K2 new      VND 300M   lost on 2026-09-20
        L7 K1 upsell   VND 500M   negotiation, 40 %  → weighted VND 200M
        L8 K5 upsell   USD 8,000  draft, 10 %        → weighted USD 800
  Hà    H1 K8 new      VND 50M    2026-08-28 → 2026-09-02 (5 days)  active   2026-09-02 – 2027-03-01
  Minh  M1 K3 new      VND 480M   2024-09-01 → 2024-10-01           expired  2024-10-01 – 2025-09-30
        M2 K4 new      USD 20,000 2026-06-15 → 2026-07-15 (30 days) active   2026-07-16 – 2027-07-15
        M3 K6 new      VND 90M    2026-09-21 00:30 → 10-01 00:30 (10) active 2026-10-01 – 2027-09-30
        M4 K4 upsell   USD 3,000  2026-09-02 → 2026-09-12 (10 days) active   2026-09-12 – 2026-12-31
        M5 K4 upsell   USD 6,000  lost on 2026-08-05
        M6 K4 upsell   USD 10,000 awaiting signature, 80 % → weighted USD 8,000
        M7 K7 new      VND 240M   2025-07-01 → 2025-08-01           expired  2025-08-01 – 2026-08-31
        M8 K7 renewal  VND 240M   draft, 10 % (renews M7, unsigned) → weighted VND 24M

Invoices (net · gross · issued · due · status) and their payments:
  I1  L2 K1 VND 60M  · 66M    · 2026-09-16 · 10-16 · partially paid: 20M on 09-25, 10M on 10-05
  I2  L1 K1 VND 50M  · 55M    · 2026-08-01 · 08-31 · paid: 30M on 08-20, 25M on 10-03
  I3  L2 K1 VND 10M  · 11M    · 2026-09-18 · void
  I4  L5 K2 VND 40M  · 44M    · 2026-06-01 · 07-01 · written off on 09-10 after 4M on 06-20
  I5  L4 K5 USD 6,000 · 6,600 · 2026-09-06 · 09-20 · partially paid: 1,000 on 09-25
  I6  L4 K5 USD 2,000 · 2,200 · 2026-09-28 · draft
  I7  L0 K1 VND 100M · 110M   · 2025-06-15 · paid on 2025-07-10
  I8  L5 K2 VND 80M  · 88M    · 2025-04-01 · paid on 2025-04-25
  I9  M1 K3 VND 120M · 132M   · 2024-11-01 · paid on 2024-11-20
  I10 M7 K7 VND 20M  · 22M    · 2025-08-05 · paid on 2025-09-01
  I11 M7 K7 VND 20M  · 22M    · 2026-08-05 · 09-04 · paid on 2026-10-02 (after September)
  I12 M2 K4 USD 10,000 · 11,000 · 2026-07-20 · 08-19 · paid on 2026-08-15
  I13 M4 K4 USD 3,000 · 3,240 (8 % VAT) · 2026-09-15 · 10-15 · issued, unpaid
  I14 M1 K3 VND 40M  · 44M    · 2025-09-01 · 2025-10-01 · issued, never paid
  I15 H1 K8 VND 25M  · 27.5M  · 2026-09-03 · 09-10 · paid on 2026-09-09

Costs: Lan VND 15M on 2026-09-20 and 5M on 10-02 (L2), USD 1,500 on 09-25 (L4); Minh USD 700 on 09-16 (M4),
USD 2,000 on 07-25 (M2).

Each test states every figure for the agency, both teams and the three AMs over the three periods.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from accounts.models import Role
from kpis import metrics
from kpis.metrics import Scope
from kpis.models import Metric
from kpis.periods import Period
from tests.factories import ClientFactory, ContractFactory, InvoiceFactory, PaymentFactory, TeamFactory, UserFactory
from tests.kpis.factories import CostEntryFactory, KpiTargetFactory, hanoi, lost_deal, signed_contract

pytestmark = pytest.mark.django_db

SCOPES = ("agency", "north", "south", "lan", "ha", "minh")
PERIODS = ("2026-09", "2026-Q3", "2026")
M = Decimal("1000000")  # a million đồng


def vnd(millions) -> Decimal:
    return Decimal(str(millions)) * M


def usd(amount) -> Decimal:
    return Decimal(str(amount))


def amounts(vnd_millions=None, usd_amount=None) -> dict[str, Decimal]:
    figure = {}
    if vnd_millions is not None:
        figure["VND"] = vnd(vnd_millions)
    if usd_amount is not None:
        figure["USD"] = usd(usd_amount)
    return figure


def rates(vnd_rate=None, usd_rate=None) -> dict[str, Decimal]:
    """Per-currency ratios, percentages or days, written as the metric rounds them."""
    figure = {}
    if vnd_rate is not None:
        figure["VND"] = Decimal(vnd_rate)
    if usd_rate is not None:
        figure["USD"] = Decimal(usd_rate)
    return figure


@pytest.fixture
def hanoi_clock(settings):
    settings.TIME_ZONE = "Asia/Ho_Chi_Minh"


@dataclass
class Book:
    lan: object
    ha: object
    minh: object
    north: object
    south: object
    contracts: dict
    invoices: dict

    def scope(self, name: str) -> Scope:
        if name == "agency":
            return Scope.agency()
        if name in ("north", "south"):
            return Scope.of_team(getattr(self, name))
        return Scope.of_user(getattr(self, name))


def _invoice(contract, number, *, net, issued, due=None, vat_rate=10, status="issued", paid=Decimal("0"), **extra):
    vat = (net * vat_rate / 100).quantize(Decimal("0.01"))
    return InvoiceFactory(
        contract=contract,
        number=None if status == "draft" else number,
        issue_date=issued,
        due_date=due or issued,
        net_amount=net,
        vat_rate=vat_rate,
        vat_amount=vat,
        gross_amount=net + vat,
        paid_amount=paid,
        status=status,
        **extra,
    )


def _pay(invoice, amount, received_on):
    """A payment, and its invoice kept as ``payment_record`` keeps it: paid so far, and when a paid one was settled."""
    payment = PaymentFactory(invoice=invoice, amount=amount, received_on=received_on)
    invoice.paid_amount += amount
    if invoice.status == "paid":
        invoice.paid_on = max(day for day in (invoice.paid_on, received_on) if day is not None)
    invoice.save(update_fields=["paid_amount", "paid_on"])
    return payment


@pytest.fixture
def book(hanoi_clock) -> Book:
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    lan = UserFactory(role=Role.ACCOUNT_MANAGER, team=north, full_name="Lan")
    ha = UserFactory(role=Role.ACCOUNT_MANAGER, team=north, full_name="Hà")
    minh = UserFactory(role=Role.ACCOUNT_MANAGER, team=south, full_name="Minh")
    k1, k2, k5 = (ClientFactory(owner=lan, name=name) for name in ("K1 grows", "K2 shrinks", "K5 new in September"))
    k3, k4 = ClientFactory(owner=minh, name="K3 lost"), ClientFactory(owner=minh, name="K4 new in July")
    k6, k7 = ClientFactory(owner=minh, name="K6 new in October"), ClientFactory(owner=minh, name="K7 flat")
    k8 = ClientFactory(owner=ha, name="K8 new in September")

    def vnd_contract(client, created, signed, value, **fields):
        return signed_contract(client=client, created=created, signed=signed, value=vnd(value), **fields)

    def usd_contract(client, created, signed, value, **fields):
        return signed_contract(
            client=client, created=created, signed=signed, value=usd(value), currency="USD", **fields
        )

    c = {}
    c["L0"] = vnd_contract(
        k1, hanoi(2024, 11, 20), hanoi(2024, 12, 1), 100, stage="expired", end_date=date(2025, 8, 31)
    )
    c["L1"] = vnd_contract(k1, hanoi(2025, 8, 1), hanoi(2025, 9, 1), 600, stage="renewed", end_date=date(2026, 9, 15))
    c["L2"] = vnd_contract(
        k1,
        hanoi(2026, 8, 16),
        hanoi(2026, 9, 10),
        720,
        kind="renewal",
        renewal_of=c["L1"],
        start_date=date(2026, 9, 16),
        end_date=date(2027, 9, 15),
    )
    c["L3"] = vnd_contract(
        k1,
        hanoi(2026, 9, 20, 23, 30),
        hanoi(2026, 9, 30, 23, 30),
        150,
        kind="upsell",
        start_date=date(2026, 10, 1),
        end_date=date(2027, 3, 31),
    )
    c["L4"] = usd_contract(k5, hanoi(2026, 8, 6), hanoi(2026, 9, 5), 12000, start_date=date(2026, 9, 6))
    c["L5"] = vnd_contract(k2, hanoi(2025, 2, 10), hanoi(2025, 3, 1), 400, stage="expired", end_date=date(2026, 9, 30))
    c["L6"] = lost_deal(client=k2, created=hanoi(2026, 8, 1), lost=hanoi(2026, 9, 20, 15), value=vnd(300))
    c["L7"] = ContractFactory(client=k1, kind="upsell", stage="negotiation", probability=40, value=vnd(500))
    c["L8"] = ContractFactory(client=k5, kind="upsell", stage="draft", probability=10, value=usd(8000), currency="USD")
    c["H1"] = vnd_contract(k8, hanoi(2026, 8, 28), hanoi(2026, 9, 2), 50, end_date=date(2027, 3, 1))
    c["M1"] = vnd_contract(k3, hanoi(2024, 9, 1), hanoi(2024, 10, 1), 480, stage="expired", end_date=date(2025, 9, 30))
    c["M2"] = usd_contract(k4, hanoi(2026, 6, 15), hanoi(2026, 7, 15), 20000, start_date=date(2026, 7, 16))
    c["M3"] = vnd_contract(k6, hanoi(2026, 9, 21, 0, 30), hanoi(2026, 10, 1, 0, 30), 90)
    c["M4"] = usd_contract(k4, hanoi(2026, 9, 2), hanoi(2026, 9, 12), 3000, kind="upsell", end_date=date(2026, 12, 31))
    c["M5"] = lost_deal(
        client=k4, created=hanoi(2026, 7, 1), lost=hanoi(2026, 8, 5), value=usd(6000), currency="USD", kind="upsell"
    )
    c["M6"] = ContractFactory(
        client=k4, kind="upsell", stage="awaiting_signature", probability=80, value=usd(10000), currency="USD"
    )
    c["M7"] = vnd_contract(k7, hanoi(2025, 7, 1), hanoi(2025, 8, 1), 240, stage="expired", end_date=date(2026, 8, 31))
    c["M8"] = ContractFactory(
        client=k7, kind="renewal", stage="draft", probability=10, value=vnd(240), renewal_of=c["M7"]
    )

    i = {}
    i["I1"] = _invoice(
        c["L2"], "T-1", net=vnd(60), issued=date(2026, 9, 16), due=date(2026, 10, 16), status="partially_paid"
    )
    _pay(i["I1"], vnd(20), date(2026, 9, 25))
    _pay(i["I1"], vnd(10), date(2026, 10, 5))
    i["I2"] = _invoice(c["L1"], "T-2", net=vnd(50), issued=date(2026, 8, 1), due=date(2026, 8, 31), status="paid")
    _pay(i["I2"], vnd(30), date(2026, 8, 20))
    _pay(i["I2"], vnd(25), date(2026, 10, 3))
    i["I3"] = _invoice(c["L2"], "T-3", net=vnd(10), issued=date(2026, 9, 18), due=date(2026, 10, 18), status="void")
    i["I4"] = _invoice(
        c["L5"],
        "T-4",
        net=vnd(40),
        issued=date(2026, 6, 1),
        due=date(2026, 7, 1),
        status="written_off",
        closed_on=date(2026, 9, 10),
    )
    _pay(i["I4"], vnd(4), date(2026, 6, 20))
    i["I5"] = _invoice(
        c["L4"], "T-5", net=usd(6000), issued=date(2026, 9, 6), due=date(2026, 9, 20), status="partially_paid"
    )
    _pay(i["I5"], usd(1000), date(2026, 9, 25))
    i["I6"] = _invoice(c["L4"], "T-6", net=usd(2000), issued=date(2026, 9, 28), due=date(2026, 10, 28), status="draft")
    i["I7"] = _invoice(c["L0"], "T-7", net=vnd(100), issued=date(2025, 6, 15), due=date(2025, 7, 15), status="paid")
    _pay(i["I7"], vnd(110), date(2025, 7, 10))
    i["I8"] = _invoice(c["L5"], "T-8", net=vnd(80), issued=date(2025, 4, 1), due=date(2025, 5, 1), status="paid")
    _pay(i["I8"], vnd(88), date(2025, 4, 25))
    i["I9"] = _invoice(c["M1"], "T-9", net=vnd(120), issued=date(2024, 11, 1), due=date(2024, 12, 1), status="paid")
    _pay(i["I9"], vnd(132), date(2024, 11, 20))
    i["I10"] = _invoice(c["M7"], "T-10", net=vnd(20), issued=date(2025, 8, 5), due=date(2025, 9, 4), status="paid")
    _pay(i["I10"], vnd(22), date(2025, 9, 1))
    i["I11"] = _invoice(c["M7"], "T-11", net=vnd(20), issued=date(2026, 8, 5), due=date(2026, 9, 4), status="paid")
    _pay(i["I11"], vnd(22), date(2026, 10, 2))
    i["I12"] = _invoice(c["M2"], "T-12", net=usd(10000), issued=date(2026, 7, 20), due=date(2026, 8, 19), status="paid")
    _pay(i["I12"], usd(11000), date(2026, 8, 15))
    i["I13"] = _invoice(c["M4"], "T-13", net=usd(3000), vat_rate=8, issued=date(2026, 9, 15), due=date(2026, 10, 15))
    i["I14"] = _invoice(c["M1"], "T-14", net=vnd(40), issued=date(2025, 9, 1), due=date(2025, 10, 1))
    i["I15"] = _invoice(c["H1"], "T-15", net=vnd(25), issued=date(2026, 9, 3), due=date(2026, 9, 10), status="paid")
    _pay(i["I15"], vnd("27.5"), date(2026, 9, 9))

    CostEntryFactory(contract=c["L2"], amount=vnd(15), incurred_on=date(2026, 9, 20))
    CostEntryFactory(contract=c["L2"], amount=vnd(5), incurred_on=date(2026, 10, 2))
    CostEntryFactory(contract=c["L4"], amount=usd(1500), incurred_on=date(2026, 9, 25))
    CostEntryFactory(contract=c["M4"], amount=usd(700), incurred_on=date(2026, 9, 16))
    CostEntryFactory(contract=c["M2"], amount=usd(2000), incurred_on=date(2026, 7, 25))
    return Book(lan=lan, ha=ha, minh=minh, north=north, south=south, contracts=c, invoices=i)


def figures(book: Book, metric: str, attribute: str = "amounts") -> dict[tuple[str, str], object]:
    """The metric for every scope and period, as {(scope, period): amounts or value}."""
    return {
        (scope, period): getattr(metrics.compute(metric, book.scope(scope), Period.parse(period)), attribute)
        for scope in SCOPES
        for period in PERIODS
    }


def table(rows: dict[str, tuple]) -> dict[tuple[str, str], object]:
    """{scope: (September, Q3, 2026)} → {(scope, period): figure}."""
    return {(scope, period): row[index] for scope, row in rows.items() for index, period in enumerate(PERIODS)}


def same_in_every_period(rows: dict[str, object]) -> dict[tuple[str, str], object]:
    return table({scope: (figure, figure, figure) for scope, figure in rows.items()})


# --- Contracts ----------------------------------------------------------------------------------------------


def test_signed_revenue_is_the_value_of_contracts_signed_in_the_period_per_currency(book):
    # September: L2 720M + L3 150M (23:30 on the 30th) + H1 50M; L4 USD 12,000, M4 USD 3,000. Q3 adds M2 USD
    # 20,000 (July). The year adds M3 VND 90M, signed at 00:30 on 1 October. L0, L1, L5, M1, M7 are older.
    assert figures(book, Metric.SIGNED_REVENUE) == table(
        {
            "agency": (amounts(920, 15000), amounts(920, 35000), amounts(1010, 35000)),
            "north": (amounts(920, 12000), amounts(920, 12000), amounts(920, 12000)),
            "south": (amounts(None, 3000), amounts(None, 23000), amounts(90, 23000)),
            "lan": (amounts(870, 12000), amounts(870, 12000), amounts(870, 12000)),
            "ha": (amounts(50), amounts(50), amounts(50)),
            "minh": (amounts(None, 3000), amounts(None, 23000), amounts(90, 23000)),
        }
    )


def test_a_contract_signed_half_an_hour_after_midnight_on_the_first_counts_in_the_new_month(book):
    october = Period.parse("2026-10")

    assert metrics.signed_revenue(Scope.of_user(book.minh), october).amounts == amounts(90)
    assert metrics.signed_revenue(Scope.of_user(book.lan), october).amounts == {}
    assert book.contracts["L3"] in metrics.signed_contracts(Scope.of_user(book.lan), Period.parse("2026-09"))


def test_upsell_revenue_counts_signed_upsells_only(book):
    # L3 VND 150M and M4 USD 3,000; M5 was lost, L7, L8 and M6 are still open.
    assert figures(book, Metric.UPSELL_REVENUE) == same_in_every_period(
        {
            "agency": amounts(150, 3000),
            "north": amounts(150),
            "south": amounts(None, 3000),
            "lan": amounts(150),
            "ha": {},
            "minh": amounts(None, 3000),
        }
    )


def test_new_clients_are_counted_in_the_period_of_their_first_signed_contract(book):
    # K5 (Lan) and K8 (Hà) in September, K4 (Minh) in July, K6 (Minh) in October; K1, K2, K3, K7 are older.
    assert figures(book, Metric.NEW_CLIENTS, "value") == table(
        {
            "agency": (2, 3, 4),
            "north": (2, 2, 2),
            "south": (0, 1, 2),
            "lan": (1, 1, 1),
            "ha": (1, 1, 1),
            "minh": (0, 1, 2),
        }
    )


def test_win_rate_is_won_over_won_and_lost_with_renewals_won(book):
    # September: Lan won L2 (a renewal), L3, L4 and lost L6: 3/4. Hà 1/1. Minh won M4: 1/1. Agency 5/6.
    # Q3: Minh adds M2 won and M5 lost (August): 2/3; agency 6/8. The year: Minh adds M3: 3/4; agency 7/9.
    assert figures(book, Metric.WIN_RATE, "value") == table(
        {
            "agency": (Decimal("83.3"), Decimal("75.0"), Decimal("77.8")),
            "north": (Decimal("80.0"), Decimal("80.0"), Decimal("80.0")),
            "south": (Decimal("100.0"), Decimal("66.7"), Decimal("75.0")),
            "lan": (Decimal("75.0"), Decimal("75.0"), Decimal("75.0")),
            "ha": (Decimal("100.0"), Decimal("100.0"), Decimal("100.0")),
            "minh": (Decimal("100.0"), Decimal("66.7"), Decimal("75.0")),
        }
    )


def test_renewal_rate_is_renewed_over_signed_contracts_ending_in_the_period(book):
    # September: L1 (renewed by L2) and L5 (expired) end: 1/2. Q3 adds M7 (August; its renewal M8 is unsigned):
    # 1/3. The year adds M4 (31 December, not renewed): 1/4. Hà has nothing ending: undefined.
    assert figures(book, Metric.RENEWAL_RATE, "value") == table(
        {
            "agency": (Decimal("50.0"), Decimal("33.3"), Decimal("25.0")),
            "north": (Decimal("50.0"), Decimal("50.0"), Decimal("50.0")),
            "south": (None, Decimal("0.0"), Decimal("0.0")),
            "lan": (Decimal("50.0"), Decimal("50.0"), Decimal("50.0")),
            "ha": (None, None, None),
            "minh": (None, Decimal("0.0"), Decimal("0.0")),
        }
    )


def test_weighted_pipeline_is_the_open_deals_now_whatever_the_period(book):
    # L7 500M × 40 % + M8 240M × 10 %; L8 8,000 × 10 % + M6 10,000 × 80 %. Lost L6 and M5 are not open.
    assert figures(book, Metric.PIPELINE_WEIGHTED) == same_in_every_period(
        {
            "agency": amounts(224, 8800),
            "north": amounts(200, 800),
            "south": amounts(24, 8000),
            "lan": amounts(200, 800),
            "ha": {},
            "minh": amounts(24, 8000),
        }
    )


def test_average_days_to_close_is_from_creation_to_signature(book):
    # September: L2 25, L3 10, L4 30, H1 5, M4 10 days. Q3 adds M2 30; the year adds M3 10.
    assert figures(book, Metric.AVERAGE_DAYS_TO_CLOSE, "value") == table(
        {
            "agency": (Decimal("16.0"), Decimal("18.3"), Decimal("17.1")),
            "north": (Decimal("17.5"), Decimal("17.5"), Decimal("17.5")),
            "south": (Decimal("10.0"), Decimal("20.0"), Decimal("16.7")),
            "lan": (Decimal("21.7"), Decimal("21.7"), Decimal("21.7")),
            "ha": (Decimal("5.0"), Decimal("5.0"), Decimal("5.0")),
            "minh": (Decimal("10.0"), Decimal("20.0"), Decimal("16.7")),
        }
    )


def test_a_contract_recorded_after_its_signature_has_no_days_to_close(book):
    # Entered in Accord a week after it was signed (an import, a deal closed elsewhere): no negative days.
    late = signed_contract(
        client=ClientFactory(owner=book.ha), created=hanoi(2026, 9, 20), signed=hanoi(2026, 9, 13), value=vnd(5)
    )
    period, ha = Period.parse("2026-09"), book.scope("ha")

    assert metrics.compute(Metric.AVERAGE_DAYS_TO_CLOSE, ha, period).value == Decimal("5.0")  # H1 alone
    assert late in metrics.signed_contracts(ha, period)  # still signed revenue and a deal won
    # The dashboards and the drill-down agree.
    from kpis.selectors.board import build_board
    from kpis.selectors.drilldown import drilldown_result, drilldown_sections

    assert build_board(ha, period).figure(Metric.AVERAGE_DAYS_TO_CLOSE, ha).value == Decimal("5.0")
    sections = drilldown_sections(Metric.AVERAGE_DAYS_TO_CLOSE, ha, period)
    totals = [section.totals() for section in sections]
    assert drilldown_result(Metric.AVERAGE_DAYS_TO_CLOSE, sections, totals, ha, period).value == Decimal("5.0")
    assert sections[0].records.get(pk=late.pk).days_to_close is None


def test_pipeline_coverage_is_weighted_pipeline_over_what_is_left_of_the_signed_revenue_target(book):
    september = Period.parse("2026-09")
    KpiTargetFactory(user=book.lan, value=vnd(1000), currency="VND")
    KpiTargetFactory(user=book.lan, value=usd(10000), currency="USD")
    KpiTargetFactory(scope="agency", user=None, value=vnd(2000), currency="VND")
    KpiTargetFactory(scope="team", user=None, team=book.north, value=vnd(900), currency="VND")

    def coverage(scope: Scope) -> dict:
        return metrics.pipeline_coverage(scope, september).amounts

    # Lan: 200M ÷ (1,000M − 870M) = 1.54; her USD target (10,000) is already beaten by 12,000 signed.
    assert coverage(Scope.of_user(book.lan)) == rates("1.54")
    # The agency: 224M ÷ (2,000M − 920M) = 0.21.
    assert coverage(Scope.agency()) == rates("0.21")
    # North signed 920M against a 900M target: nothing left to cover. Minh has no target.
    assert coverage(Scope.of_team(book.north)) == {}
    assert coverage(Scope.of_user(book.minh)) == {}


# --- Invoices, payments and costs --------------------------------------------------------------------------


def test_invoiced_revenue_is_the_net_of_issued_invoices_without_void_ones_or_drafts(book):
    # September: I1 60M (I3 void), I15 25M, I5 USD 6,000 (I6 draft), I13 USD 3,000. Q3 adds I2 50M, I11 20M,
    # I12 USD 10,000. The year adds I4 40M (written off later: it was still invoiced).
    assert figures(book, Metric.INVOICED_REVENUE) == table(
        {
            "agency": (amounts(85, 9000), amounts(155, 19000), amounts(195, 19000)),
            "north": (amounts(85, 6000), amounts(135, 6000), amounts(175, 6000)),
            "south": (amounts(None, 3000), amounts(20, 13000), amounts(20, 13000)),
            "lan": (amounts(60, 6000), amounts(110, 6000), amounts(150, 6000)),
            "ha": (amounts(25), amounts(25), amounts(25)),
            "minh": (amounts(None, 3000), amounts(20, 13000), amounts(20, 13000)),
        }
    )


def test_cash_collected_counts_payments_by_the_day_they_were_received(book):
    # September: I1 20M, I15 27.5M, I5 USD 1,000. Q3 adds I2's 30M (August) and I12's USD 11,000. The year adds
    # I4's 4M (June) and the October payments: I1 10M, I2 25M, I11 22M.
    assert figures(book, Metric.CASH_COLLECTED) == table(
        {
            "agency": (amounts("47.5", 1000), amounts("77.5", 12000), amounts("138.5", 12000)),
            "north": (amounts("47.5", 1000), amounts("77.5", 1000), amounts("116.5", 1000)),
            "south": ({}, amounts(None, 11000), amounts(22, 11000)),
            "lan": (amounts(20, 1000), amounts(50, 1000), amounts(89, 1000)),
            "ha": (amounts("27.5"), amounts("27.5"), amounts("27.5")),
            "minh": ({}, amounts(None, 11000), amounts(22, 11000)),
        }
    )


def test_gross_margin_is_invoiced_revenue_less_the_costs_of_the_period(book):
    # Lan: 60M − 15M, USD 6,000 − 1,500; the year also loses the 5M of October. Minh: USD 3,000 − 700 in September,
    # USD 13,000 − 700 − 2,000 over Q3.
    assert figures(book, Metric.GROSS_MARGIN) == table(
        {
            "agency": (amounts(70, 6800), amounts(140, 14800), amounts(175, 14800)),
            "north": (amounts(70, 4500), amounts(120, 4500), amounts(155, 4500)),
            "south": (amounts(None, 2300), amounts(20, 10300), amounts(20, 10300)),
            "lan": (amounts(45, 4500), amounts(95, 4500), amounts(130, 4500)),
            "ha": (amounts(25), amounts(25), amounts(25)),
            "minh": (amounts(None, 2300), amounts(20, 10300), amounts(20, 10300)),
        }
    )


def test_overdue_receivables_are_owed_and_past_due_on_the_last_day(book):
    # On 30 September: I2 25M (its last 25M came on 3 October), I5 USD 5,600, I11 22M (paid 2 October), I14 44M.
    # Not I1 (due in October), I13 (due in October), I4 (written off) nor I3 (void).
    # On 31 December: I1 36M, I5 USD 5,600, I13 USD 3,240, I14 44M.
    assert figures(book, Metric.OVERDUE_RECEIVABLES) == table(
        {
            "agency": (amounts(91, 5600), amounts(91, 5600), amounts(80, 8840)),
            "north": (amounts(25, 5600), amounts(25, 5600), amounts(36, 5600)),
            "south": (amounts(66), amounts(66), amounts(44, 3240)),
            "lan": (amounts(25, 5600), amounts(25, 5600), amounts(36, 5600)),
            "ha": ({}, {}, {}),
            "minh": (amounts(66), amounts(66), amounts(44, 3240)),
        }
    )


def test_dso_is_outstanding_on_the_last_day_over_gross_issued_in_the_period_times_its_days(book):
    # September (30 days), Lan: owed 46M (I1) + 25M (I2) = 71M over 66M issued → 32.3; USD 5,600 / 6,600 → 25.5.
    # Q3 (92 days), Lan: 71M / (66M + 55M) → 54.0. The year (365 days), Lan: 36M / (66M + 55M + 44M) → 79.6.
    # Minh issued no đồng in September: no VND figure; Hà owes nothing: 0.
    assert figures(book, Metric.DSO) == table(
        {
            "agency": (rates("44.0", "27.0"), rates("73.9", "39.0"), rates("136.1", "154.8")),
            "north": (rates("22.8", "25.5"), rates("44.0", "78.1"), rates("68.3", "309.7")),
            "south": (rates(None, "30.0"), rates("276.0", "20.9"), rates("730.0", "83.0")),
            "lan": (rates("32.3", "25.5"), rates("54.0", "78.1"), rates("79.6", "309.7")),
            "ha": (rates("0.0"), rates("0.0"), rates("0.0")),
            "minh": (rates(None, "30.0"), rates("276.0", "20.9"), rates("730.0", "83.0")),
        }
    )


def test_revenue_retention_over_twelve_months_with_a_client_that_grew_one_that_shrank_and_one_lost(book):
    # Window ending 30 September 2026 vs the 12 months before, net invoiced per client (VND millions):
    #   K1 100 → 110 (grew), K2 80 → 40 (shrank; I4 was written off but was invoiced), K3 160 → 0 (lost),
    #   K7 20 → 20. K8 and the USD clients had no revenue in the earlier window, so they do not count.
    # Net: 170 / 360 = 47.2 %; gross (each client capped at its earlier revenue): 160 / 360 = 44.4 %.
    # Lan: 150 / 180 and 140 / 180; Minh: 20 / 180 both. Ending 31 December, I9 (November 2024) drops out of
    # the earlier window: K3 is 40 → 0, the agency 170 / 240 and 160 / 240, Minh 20 / 60.
    assert figures(book, Metric.NET_REVENUE_RETENTION) == table(
        {
            "agency": (rates("47.2"), rates("47.2"), rates("70.8")),
            "north": (rates("83.3"), rates("83.3"), rates("83.3")),
            "south": (rates("11.1"), rates("11.1"), rates("33.3")),
            "lan": (rates("83.3"), rates("83.3"), rates("83.3")),
            "ha": ({}, {}, {}),
            "minh": (rates("11.1"), rates("11.1"), rates("33.3")),
        }
    )
    assert figures(book, Metric.GROSS_REVENUE_RETENTION) == table(
        {
            "agency": (rates("44.4"), rates("44.4"), rates("66.7")),
            "north": (rates("77.8"), rates("77.8"), rates("77.8")),
            "south": (rates("11.1"), rates("11.1"), rates("33.3")),
            "lan": (rates("77.8"), rates("77.8"), rates("77.8")),
            "ha": ({}, {}, {}),
            "minh": (rates("11.1"), rates("11.1"), rates("33.3")),
        }
    )


# --- The records behind each figure ------------------------------------------------------------------------


def _sum_by_currency(rows, amount, currency) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for row in rows:
        key = currency(row)
        totals[key] = totals.get(key, Decimal("0")) + amount(row)
    return totals


# How to add up each money metric's records, row by row in Python (independently of the SQL that computed it).
RECORD_SUMS = {
    Metric.SIGNED_REVENUE: (lambda contract: contract.value, lambda contract: contract.currency),
    Metric.UPSELL_REVENUE: (lambda contract: contract.value, lambda contract: contract.currency),
    Metric.INVOICED_REVENUE: (lambda invoice: invoice.net_amount, lambda invoice: invoice.currency),
    Metric.CASH_COLLECTED: (lambda payment: payment.amount, lambda payment: payment.invoice.currency),
    Metric.OVERDUE_RECEIVABLES: (lambda invoice: invoice.owed, lambda invoice: invoice.currency),
    Metric.PIPELINE_WEIGHTED: (
        lambda contract: contract.value * contract.probability / 100,
        lambda contract: contract.currency,
    ),
}


@pytest.mark.parametrize("metric", list(RECORD_SUMS))
def test_the_records_behind_a_money_figure_add_up_to_it(book, metric):
    amount, currency = RECORD_SUMS[metric]
    definition = metrics.METRICS[metric]
    for scope in SCOPES:
        for period in map(Period.parse, PERIODS):
            records = definition.records(book.scope(scope), period)
            expected = definition.compute(book.scope(scope), period).amounts

            assert _sum_by_currency(records, amount, currency) == expected, (scope, period.key)


def test_the_records_behind_counts_and_rates_are_what_they_count(book):
    for scope_name in SCOPES:
        scope = book.scope(scope_name)
        for period in map(Period.parse, PERIODS):
            won = metrics.signed_contracts(scope, period).count()
            lost = metrics.lost_contracts(scope, period).count()
            ending = list(metrics.contracts_ending(scope, period))
            renewed = sum(1 for contract in ending if contract.was_renewed)

            assert metrics.new_clients(scope, period).value == metrics.new_client_records(scope, period).count()
            assert metrics.win_rate(scope, period).value == metrics._ratio(won, won + lost)
            assert metrics.renewal_rate(scope, period).value == metrics._ratio(renewed, len(ending))


def test_the_lost_deals_are_those_marked_lost_in_the_period(book):
    q3 = Period.parse("2026-Q3")

    assert set(metrics.lost_contracts(Scope.agency(), q3)) == {book.contracts["L6"], book.contracts["M5"]}
    assert set(metrics.lost_contracts(Scope.agency(), Period.parse("2026-09"))) == {book.contracts["L6"]}


def test_every_metric_computes_for_every_scope_and_period_kind(book):
    for metric in Metric:
        for scope in SCOPES:
            for period in PERIODS:
                figure = metrics.compute(metric, book.scope(scope), Period.parse(period))

                assert figure.metric == metric
                assert all(isinstance(amount, Decimal) for amount in figure.amounts.values())
