"""Journey: an account manager opens a client whose every field holds markup; nothing runs and the
Content-Security-Policy has nothing to block (the page itself carries no inline script)."""

import pytest

from accounts.models import Role
from clients.models import Client
from tests.e2e.test_sign_in_journey import sign_in
from tests.factories import ActivityFactory, ClientFactory, ContactFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(2)>'
WATCH_CSP = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => window.__violations.push(event.violatedDirective));
"""


def test_markup_in_a_client_runs_nothing(page):
    owner = UserFactory(role=Role.ACCOUNT_MANAGER, email="lan@agency.test", full_name=f"Lan {IMAGE}")
    client = ClientFactory(owner=owner, name=f"Sữa {SCRIPT}", city=IMAGE)
    # Stored as is, past the forms' validation: the page must still not link it.
    Client.objects.filter(pk=client.pk).update(notes=SCRIPT + IMAGE, website="javascript:alert(3)")
    ContactFactory(client=client, full_name=IMAGE, title=SCRIPT)
    ActivityFactory(client=client, subject=SCRIPT, body=IMAGE)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.add_init_script(WATCH_CSP)

    sign_in(page, owner.email)
    for path in (f"/clients/{client.pk}/", "/clients/", "/search/?q=script", "/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__violations") == [], path

    page.goto(f"/clients/{client.pk}/")
    assert page.get_by_role("heading", name=f"Sữa {SCRIPT}").is_visible()  # shown as text
    assert page.locator("a[href^='javascript:']").count() == 0
    assert page.locator("img[src='x']").count() == 0
    assert dialogs == []
    assert not [error for error in page.console_errors if "Content Security Policy" in error]
