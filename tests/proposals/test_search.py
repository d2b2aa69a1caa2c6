"""Proposals in the header search: by number or title, only the ones the user may see, the latest version."""

import pytest

from clients.selectors import global_search
from proposals import services
from tests.factories import ClientFactory
from tests.proposals.factories import line, proposal_with_lines

pytestmark = pytest.mark.django_db


def proposal_hits(user, query: str) -> list:
    groups = global_search(user=user, query=query)["groups"]
    return [hit for group in groups if group["group"].label == "Proposals" for hit in group["hits"]]


def titles(user, query: str) -> list[str]:
    return [hit.title.split(" · ", 1)[1] for hit in proposal_hits(user, query)]


def test_an_account_manager_finds_only_the_proposals_they_may_see(am, stranger):
    mine = proposal_with_lines(am, title="Chiến dịch Tết Sum vầy", client=ClientFactory(owner=am, name="Sữa Ba Vì"))
    theirs = proposal_with_lines(stranger, title="Chiến dịch Tết Đoàn viên")

    assert titles(am, "chiến dịch tết") == ["Chiến dịch Tết Sum vầy"]
    assert titles(am, theirs.number) == []
    assert titles(stranger, mine.number) == []
    assert titles(stranger, "Tết") == ["Chiến dịch Tết Đoàn viên"]


def test_directors_and_finance_find_every_proposal_by_number(am, stranger, director, finance):
    mine, theirs = proposal_with_lines(am), proposal_with_lines(stranger)
    year_prefix = mine.number.rsplit("-", 1)[0]

    for user in (director, finance):
        numbers = {hit.title.split(" ")[0] for hit in proposal_hits(user, year_prefix)}
        assert numbers == {mine.number, theirs.number}


def test_the_hit_shows_version_client_total_and_status_and_links_to_the_latest_version(am):
    client = ClientFactory(owner=am, name="Sữa Ba Vì")
    first = proposal_with_lines(am, client=client, title="Ra mắt vị mới", lines=[line(price="10000000")])
    second = services.proposal_new_version(proposal=first, actor=am)

    [hit] = proposal_hits(am, "vị mới")

    assert hit.title == f"{first.number} v2 · Ra mắt vị mới"
    assert hit.subtitle == "Sữa Ba Vì · 11,000,000 ₫ · Draft"
    assert hit.url == f"/proposals/{second.pk}/"
