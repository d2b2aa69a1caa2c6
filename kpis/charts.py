"""Server-side SVG charts for the dashboards: bars, sparklines and the pipeline funnel. No JavaScript, no CDN.

Every chart is an ``<svg role="img">`` labelled by its ``<title>`` and ``<desc>``; bars carry their label and
value as text, so they read without colour, and the page shows the same figures in a table beside the chart.
Widths are percentages, so a chart fills its column at any screen width. Styles come from accord.css (classes,
no inline style: the content security policy forbids it). Labels are escaped; the caller formats the values.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _

BAR_ROW = 50  # px per bar: the label line, then the bar with its value
BAR_HEIGHT = 22
FULL_WIDTH = 96  # % of the chart's width taken by the largest value (room for the outline's stroke)
FUNNEL_ROW = 52
FUNNEL_MIN_WIDTH = 4  # % : a stage with deals stays visible beside a much larger one


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal | int
    text: str  # the value as the page writes it ("12,500,000 ₫", "3 deals")
    target: Decimal | int | None = None


@dataclass(frozen=True)
class FunnelStage:
    label: str
    value: Decimal | int  # what the width shows (deals)
    text: str


def _number(value) -> float:
    return float(value or 0)


def _percent(value, largest: float) -> float:
    """The share of the chart's width for ``value`` (0 for nothing or a negative value)."""
    value = _number(value)
    if value <= 0 or largest <= 0:
        return 0.0
    return round(value / largest * FULL_WIDTH, 2)


def _ids(chart_id: str) -> tuple[str, str]:
    base = slugify(chart_id) or "chart"
    return f"{base}-title", f"{base}-desc"


def _svg(chart_id: str, title: str, description: str, height: int, body: SafeString, css: str) -> SafeString:
    title_id, desc_id = _ids(chart_id)
    return format_html(
        '<svg class="kpi-chart {}" width="100%" height="{}" role="img" aria-labelledby="{} {}" data-chart="{}">'
        '<title id="{}">{}</title><desc id="{}">{}</desc>{}</svg>',
        css,
        height,
        title_id,
        desc_id,
        slugify(chart_id) or "chart",
        title_id,
        title,
        desc_id,
        description,
        body,
    )


def _empty(chart_id: str, title: str, empty_text: str) -> SafeString:
    body = format_html('<text class="chart-empty" x="0" y="18">{}</text>', empty_text)
    return _svg(chart_id, title, empty_text, 28, body, "kpi-chart-empty")


def bar_chart(
    bars: Sequence[Bar], *, chart_id: str, title: str, description: str = "", empty_text: str = ""
) -> SafeString:
    """Horizontal bars, one row each: the label, then a solid bar with its value written on it; a target, when
    given, is a dashed outline to the target's length. All bars share one scale (the largest value or target)."""
    if not bars:
        return _empty(chart_id, title, empty_text or _("Nothing to chart for this period."))
    largest = max(max(_number(bar.value), _number(bar.target)) for bar in bars)
    rows = []
    for index, bar in enumerate(bars):
        target = ""
        if bar.target is not None:
            target = format_html(
                '<rect class="chart-target" x="1" y="20" width="{}%" height="{}" rx="3"></rect>',
                _percent(bar.target, largest),
                BAR_HEIGHT,
            )
        rows.append(
            format_html(
                '<g class="chart-row" transform="translate(0 {})">'
                '<text class="chart-label" x="0" y="14">{}</text>'
                '<rect class="chart-bar" x="1" y="20" width="{}%" height="{}" rx="3"></rect>{}'
                '<text class="chart-value" x="8" y="35">{}</text></g>',
                index * BAR_ROW,
                bar.label,
                _percent(bar.value, largest),
                BAR_HEIGHT,
                target,
                bar.text,
            )
        )
    return _svg(chart_id, title, description, len(bars) * BAR_ROW, mark_safe("".join(rows)), "kpi-bar-chart")  # noqa: S308 (escaped above)


def sparkline(
    values: Sequence[Decimal | int | None], *, chart_id: str, title: str, width: int = 120, height: int = 32
) -> SafeString:
    """A small line of ``values`` (oldest first) from zero up to the largest, the last point marked. No values, or
    only empty ones: a dash and "no data" in the title."""
    numbers = [_number(value) for value in values]
    if not numbers or all(value is None for value in values):
        body = format_html(
            '<line class="sparkline-none" x1="4" y1="{}" x2="{}" y2="{}"></line>', height / 2, width - 4, height / 2
        )
        return _small_svg(chart_id, f"{title} · {_('no data')}", width, height, body)
    pad = 3
    low, high = min(0.0, min(numbers)), max(0.0, max(numbers))
    span = high - low or 1.0
    step = (width - 2 * pad) / max(len(numbers) - 1, 1)

    def point(index: int, value: float) -> tuple[float, float]:
        return round(pad + index * step, 2), round(height - pad - (value - low) / span * (height - 2 * pad), 2)

    points = [point(index, value) for index, value in enumerate(numbers)]
    zero_y = point(0, 0.0)[1]
    last_x, last_y = points[-1]
    body = format_html(
        '<line class="sparkline-zero" x1="{}" y1="{}" x2="{}" y2="{}"></line>'
        '<polyline class="sparkline-line" points="{}"></polyline>'
        '<circle class="sparkline-last" cx="{}" cy="{}" r="2.5"></circle>',
        pad,
        zero_y,
        width - pad,
        zero_y,
        " ".join(f"{x},{y}" for x, y in points),
        last_x,
        last_y,
    )
    return _small_svg(chart_id, title, width, height, body)


def _small_svg(chart_id: str, title: str, width: int, height: int, body: SafeString) -> SafeString:
    title_id, _desc = _ids(chart_id)
    return format_html(
        '<svg class="kpi-sparkline" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-labelledby="{}" '
        'data-chart="{}"><title id="{}">{}</title>{}</svg>',
        width,
        height,
        width,
        height,
        title_id,
        slugify(chart_id) or "chart",
        title_id,
        title,
        body,
    )


def funnel(
    stages: Sequence[FunnelStage], *, chart_id: str, title: str, description: str = "", empty_text: str = ""
) -> SafeString:
    """The pipeline as a funnel: one centred bar per stage, as wide as its share of the largest stage, with the
    stage's name and figures written above it."""
    if not stages or not any(_number(stage.value) for stage in stages):
        return _empty(chart_id, title, empty_text or _("No open deals."))
    largest = max(_number(stage.value) for stage in stages)
    rows = format_html_join(
        "",
        '<g class="chart-row funnel-stage-{}" transform="translate(0 {})">'
        '<text class="chart-label" x="50%" y="14" text-anchor="middle">{} · {}</text>'
        '<rect class="chart-bar funnel-bar" x="{}%" y="20" width="{}%" height="{}" rx="3"></rect></g>',
        (
            (
                index,
                index * FUNNEL_ROW,
                stage.label,
                stage.text,
                round((100 - width) / 2, 2),
                width,
                BAR_HEIGHT + 4,
            )
            for index, stage in enumerate(stages)
            for width in [_funnel_width(stage.value, largest)]
        ),
    )
    return _svg(chart_id, title, description, len(stages) * FUNNEL_ROW, rows, "kpi-funnel")


def _funnel_width(value, largest: float) -> float:
    width = _percent(value, largest) / FULL_WIDTH * 100
    return round(max(width, float(FUNNEL_MIN_WIDTH)), 2) if _number(value) > 0 else 0.0
