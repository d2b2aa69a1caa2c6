"""seed_demo committed for real: its after-commit work runs (a transactional test, so it is kept apart from
test_seed_demo.py, whose tests share one seeded agency that is never committed)."""

import pytest
from django.core import mail

from accounts.models import Notification
from tests.accounts.test_seed_demo import seed
from tests.conftest import restore_migration_departments


@pytest.mark.django_db(transaction=True)
def test_seeding_notifies_in_the_app_but_sends_no_email(capsys):
    # A transactional test starts from an emptied database: put back the departments the migration creates.
    restore_migration_departments()
    seed("--quiet")

    assert Notification.objects.filter(emailed_at__isnull=False).exists()  # the e-mail task ran after commit
    assert mail.outbox == []
    assert "Subject:" not in capsys.readouterr().out
