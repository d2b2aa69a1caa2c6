"""core.pdf: WeasyPrint reads the vendored fonts and the media folder, and nothing else."""

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

from core import pdf as core_pdf
from core.pdf import LOCAL_ORIGIN, LocalFilesFetcher, RefusedURL, local_path, prepared_stylesheet, render_pdf
from tests.conftest import require

FONT = "vendor/be-vietnam-pro/ttf/BeVietnamPro-Regular.ttf"
VIETNAMESE = "Công ty Cổ phần Sữa Việt Nam · Đặng Thị Hương · 12.500.000 ₫"


def pdf_tool(name: str, pdf: bytes, *args: str) -> str:
    """Run a poppler tool (pdftotext, pdffonts) on the PDF; its output."""
    require(shutil.which(name) is not None, f"needs {name} (apt-get install poppler-utils)")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        output = [file.name, "-"] if name == "pdftotext" else [file.name]
        return subprocess.run([name, *args, *output], capture_output=True, check=True).stdout.decode()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def test_static_files_are_served_by_their_static_url_or_file_url():
    expected = (Path(settings.BASE_DIR) / "static" / FONT).resolve()

    assert local_path(f"{LOCAL_ORIGIN}static/{FONT}") == expected
    assert local_path(expected.as_uri()) == expected


def test_media_files_are_served(media):
    logo = media / "logos" / "agency.png"
    logo.parent.mkdir()
    logo.write_bytes(b"\x89PNG")

    assert local_path(f"{LOCAL_ORIGIN}media/logos/agency.png") == logo.resolve()


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/logo.png",
        "https://example.com/font.ttf",
        "http://127.0.0.1:8000/static/css/accord.css",
        "ftp://example.com/x",
        "data:text/css,body{}",
        "file:///etc/passwd",
        f"{LOCAL_ORIGIN}etc/passwd",
        f"{LOCAL_ORIGIN}static/../config/settings.py",
        f"{LOCAL_ORIGIN}static/%2e%2e/config/settings.py",
        f"{LOCAL_ORIGIN}media/../config/settings.py",
        f"{LOCAL_ORIGIN}static/vendor/no-such-file.ttf",
    ],
)
def test_anything_else_is_refused(media, url):
    with pytest.raises(RefusedURL):
        local_path(url)


def test_a_file_url_outside_static_and_media_is_refused():
    outside = (Path(settings.BASE_DIR) / "config" / "settings.py").as_uri()

    with pytest.raises(RefusedURL):
        local_path(outside)


def test_a_link_in_media_that_points_outside_is_refused(media):
    (media / "innocent.png").symlink_to("/etc/passwd")

    with pytest.raises(RefusedURL):
        local_path(f"{LOCAL_ORIGIN}media/innocent.png")


def test_a_pdf_uses_the_vendored_font_for_vietnamese():
    html = f"""<style>@font-face {{ font-family: Brand; src: url("/static/{FONT}"); }}
    body {{ font-family: Brand; }}</style><p>{VIETNAMESE}</p>"""

    pdf = render_pdf(html)

    assert pdf.startswith(b"%PDF")
    assert VIETNAMESE in pdf_tool("pdftotext", pdf)
    fonts = pdf_tool("pdffonts", pdf)
    assert "Brand" in fonts and "DejaVu" not in fonts


def test_refused_resources_are_left_out_and_the_pdf_still_renders(caplog):
    html = """<link rel="stylesheet" href="file:///etc/passwd">
    <img src="http://127.0.0.1:9/tracker.png" alt=""><p>Sữa Việt Nam</p>"""

    pdf = render_pdf(html)

    assert "Sữa Việt Nam" in pdf_tool("pdftotext", pdf)
    assert caplog.text.count("RefusedURL") == 2


def test_a_stylesheet_given_apart_is_parsed_once_and_its_fonts_serve_every_pdf(monkeypatch):
    fetched: list[str] = []
    original = LocalFilesFetcher.fetch

    def recording_fetch(fetcher, url, headers=None):
        fetched.append(url)
        return original(fetcher, url, headers)

    monkeypatch.setattr(LocalFilesFetcher, "fetch", recording_fetch)
    stylesheet = f"""/* kept apart */ @font-face {{ font-family: Kept; src: url("/static/{FONT}"); }}
    body {{ font-family: Kept; }}"""

    first = render_pdf(f"<p>{VIETNAMESE}</p>", stylesheet=stylesheet)
    second = render_pdf(f"<p>{VIETNAMESE} · 2</p>", stylesheet=stylesheet)

    assert fetched == [f"{LOCAL_ORIGIN}static/{FONT}"]  # the font is read once, for the first PDF
    assert VIETNAMESE in pdf_tool("pdftotext", first) and f"{VIETNAMESE} · 2" in pdf_tool("pdftotext", second)
    for pdf in (first, second):
        fonts = pdf_tool("pdffonts", pdf)
        assert "+Kept " in fonts and "DejaVu" not in fonts


def test_a_kept_stylesheet_is_prepared_again_after_an_hour(monkeypatch):
    stylesheet = "/* prepared again */ body { color: #111; }"
    kept = prepared_stylesheet(stylesheet)
    assert prepared_stylesheet(stylesheet) is kept

    monkeypatch.setattr(core_pdf, "STYLESHEET_MAX_AGE", 0)

    assert prepared_stylesheet(stylesheet) is not kept
