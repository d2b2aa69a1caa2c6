"""The dashboards' SVG charts: well-formed, labelled for screen readers, escaped, scaled, and sensible when empty."""

import xml.etree.ElementTree as ElementTree
from decimal import Decimal

from kpis.charts import Bar, FunnelStage, bar_chart, funnel, sparkline

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ElementTree.Element:
    """The chart as XML (it must be well-formed); the SVG namespace is added as a browser would assume it."""
    markup = markup.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    return ElementTree.fromstring(markup)  # noqa: S314 (the chart module's own output, not untrusted input)


def widths(svg: ElementTree.Element, css: str) -> list[str]:
    return [rect.get("width") for rect in svg.iter(f"{SVG}rect") if rect.get("class") == css]


def texts(svg: ElementTree.Element) -> list[str]:
    return [text.text for text in svg.iter(f"{SVG}text")]


def test_a_bar_chart_is_an_image_labelled_by_its_title_and_description():
    svg = parse(
        bar_chart(
            [Bar("Hà Nội", Decimal("10"), "10 ₫")],
            chart_id="Teams VND",
            title="Signed revenue by team",
            description="Same figures as the table.",
        )
    )

    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "teams-vnd-title teams-vnd-desc"
    assert svg.find(f"{SVG}title").get("id") == "teams-vnd-title"
    assert svg.find(f"{SVG}title").text == "Signed revenue by team"
    assert svg.find(f"{SVG}desc").text == "Same figures as the table."


def test_bars_share_one_scale_with_the_largest_value_or_target_at_full_width():
    svg = parse(
        bar_chart(
            [
                Bar("North", Decimal("300"), "300 ₫", target=Decimal("400")),
                Bar("South", Decimal("100"), "100 ₫"),
                Bar("West", Decimal("0"), "0 ₫"),
            ],
            chart_id="teams",
            title="Teams",
        )
    )

    assert widths(svg, "chart-bar") == ["72.0%", "24.0%", "0.0%"]
    assert widths(svg, "chart-target") == ["96.0%"]
    # Every bar carries its label and its value as text: the chart reads without colour.
    assert texts(svg) == ["North", "300 ₫", "South", "100 ₫", "West", "0 ₫"]
    assert svg.get("height") == "150"


def test_a_negative_value_draws_no_bar_but_keeps_its_text():
    svg = parse(bar_chart([Bar("Margin", Decimal("-5"), "−5 ₫"), Bar("B", 10, "10")], chart_id="m", title="t"))

    assert widths(svg, "chart-bar") == ["0.0%", "96.0%"]
    assert "−5 ₫" in texts(svg)


def test_labels_and_titles_are_escaped():
    markup = bar_chart(
        [Bar('<script>alert("x")</script>', 1, "1 & 2")], chart_id="x", title='Tết "2027" <b>', description="a < b"
    )

    assert "<script>" not in markup and "<b>" not in markup
    svg = parse(markup)
    assert texts(svg) == ['<script>alert("x")</script>', "1 & 2"]
    assert svg.find(f"{SVG}title").text == 'Tết "2027" <b>'


def test_an_empty_bar_chart_says_so():
    svg = parse(bar_chart([], chart_id="none", title="Aging", empty_text="Nothing is owed."))

    assert texts(svg) == ["Nothing is owed."]
    assert svg.find(f"{SVG}title").text == "Aging"
    assert not list(svg.iter(f"{SVG}rect"))


def test_a_sparkline_runs_from_zero_to_the_largest_value_and_marks_the_last():
    svg = parse(
        sparkline([Decimal("0"), Decimal("50"), Decimal("100")], chart_id="lan", title="Lan", width=106, height=26)
    )

    points = svg.find(f"{SVG}polyline").get("points").split()
    assert points == ["3.0,23.0", "53.0,13.0", "103.0,3.0"]
    last = svg.find(f"{SVG}circle")
    assert (last.get("cx"), last.get("cy")) == ("103.0", "3.0")
    assert svg.get("role") == "img" and svg.find(f"{SVG}title").text == "Lan"


def test_a_flat_sparkline_of_zeros_lies_on_the_baseline():
    svg = parse(sparkline([0, 0, 0], chart_id="flat", title="Flat", width=106, height=26))

    assert {point.split(",")[1] for point in svg.find(f"{SVG}polyline").get("points").split()} == {"23.0"}


def test_a_sparkline_without_values_is_a_dash_titled_no_data():
    for values in ([], [None, None]):
        svg = parse(sparkline(values, chart_id="empty", title="Minh"))
        assert svg.find(f"{SVG}polyline") is None
        assert svg.find(f"{SVG}line").get("class") == "sparkline-none"
        assert svg.find(f"{SVG}title").text == "Minh · no data"


def test_the_funnel_centres_each_stage_as_wide_as_its_share_of_the_largest():
    svg = parse(
        funnel(
            [
                FunnelStage("Draft", 10, "10 deals"),
                FunnelStage("Negotiation", 5, "5 deals"),
                FunnelStage("Awaiting", 0, "0"),
            ],
            chart_id="funnel",
            title="Pipeline",
        )
    )

    bars = list(svg.iter(f"{SVG}rect"))
    assert [(bar.get("x"), bar.get("width")) for bar in bars] == [
        ("0.0%", "100.0%"),
        ("25.0%", "50.0%"),
        ("50.0%", "0.0%"),
    ]
    assert texts(svg) == ["Draft · 10 deals", "Negotiation · 5 deals", "Awaiting · 0"]


def test_a_tiny_stage_stays_visible_and_an_empty_funnel_says_so():
    svg = parse(funnel([FunnelStage("Draft", 1000, "1000"), FunnelStage("Signed", 1, "1")], chart_id="f", title="t"))
    assert [rect.get("width") for rect in svg.iter(f"{SVG}rect")] == ["100.0%", "4.0%"]

    empty = parse(funnel([FunnelStage("Draft", 0, "0")], chart_id="f", title="Pipeline"))
    assert texts(empty) == ["No open deals."]
