"""The Vietnamese catalogue is complete, compiled, and covers every translatable string in the code."""

import shutil
import subprocess
import sys

import polib

from tests.conftest import BASE_DIR, require

CATALOGUE = BASE_DIR / "locale" / "vi" / "LC_MESSAGES" / "django.po"


def test_every_string_has_a_vietnamese_translation():
    catalogue = polib.pofile(str(CATALOGUE))

    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]

    assert untranslated == [] and fuzzy == []
    assert len(catalogue.translated_entries()) > 100


def test_the_compiled_catalogue_matches_the_source():
    source = {(entry.msgid, entry.msgstr or entry.msgstr_plural.get(0, "")) for entry in polib.pofile(str(CATALOGUE))}
    compiled = {
        (entry.msgid, entry.msgstr or entry.msgstr_plural.get(0, ""))
        for entry in polib.mofile(str(CATALOGUE.with_suffix(".mo")))
        if entry.msgid
    }

    assert source == compiled, "run `make messages` to recompile locale/vi/LC_MESSAGES/django.mo"


def test_no_string_in_the_code_is_missing_from_the_catalogue(tmp_path):
    require(shutil.which("xgettext") is not None, "needs gettext's xgettext (apt-get install gettext)")
    copy = tmp_path / "accord"
    shutil.copytree(
        BASE_DIR,
        copy,
        ignore=shutil.ignore_patterns(".venv", ".git", "staticfiles", "media", "db.sqlite3*", "__pycache__", "bench"),
    )
    command = [sys.executable, "manage.py", "makemessages", "-l", "vi", "--no-location", "--no-obsolete"]
    command += ["--ignore=tests", "--ignore=staticfiles", "--ignore=bench"]
    subprocess.run(command, cwd=copy, check=True, capture_output=True, timeout=120)

    refreshed = polib.pofile(str(copy / "locale" / "vi" / "LC_MESSAGES" / "django.po"))
    missing = [entry.msgid for entry in refreshed.untranslated_entries() + refreshed.fuzzy_entries()]

    assert missing == [], "new strings: run `make messages` and translate them in locale/vi/LC_MESSAGES/django.po"


def test_a_span_of_time_reads_in_vietnamese():
    """Django's Vietnamese catalogue lacks "%(num)d day" and the like (core/time_words.py): Accord's has them."""
    from datetime import timedelta

    from django.contrib.humanize.templatetags.humanize import naturaltime
    from django.utils import timezone, translation

    with translation.override("vi"):
        text = str(naturaltime(timezone.now() - timedelta(days=3, hours=5)))

    assert text.replace("\xa0", " ") == "cách đây 3 ngày, 5 giờ"  # a no-break space inside each span
