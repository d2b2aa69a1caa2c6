"""PDFs from HTML with WeasyPrint, reading nothing but the project's own static files and media.

Templates refer to their fonts and images as pages do (``{% static %}``, a file field's ``.url``), or by ``file://``
URL. The URL fetcher serves those from the static files (STATICFILES_DIRS and the apps' static folders, through the
finders, or STATIC_ROOT once collected) and from MEDIA_ROOT, and refuses everything else: no network (a user's text
can never make the worker fetch an address), no file elsewhere on the disk, no way out of those folders through
``..`` or a symbolic link.

A document's own stylesheet is best passed apart from its HTML (``render_pdf(html, stylesheet=css)``): WeasyPrint
then parses it, and loads the fonts of its ``@font-face`` rules, once per process rather than once per PDF. Parsing
the CSS, registering the fonts with Fontconfig and loading them into Pango otherwise cost about a quarter of a short
document's render. Such a stylesheet carries the document's fonts (its HTML then declares no ``@font-face``); what
is kept is dropped after an hour, so fonts copied to the temporary folder never outlive a cleaner of /tmp.
"""

import logging
import mimetypes
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.utils._os import safe_join
from weasyprint import CSS, HTML, Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

# Root-relative URLs in templates (/static/…, /media/…) are resolved against this origin, which no resolver answers
# (.invalid is reserved, RFC 2606): the fetcher maps it to the local folders and never goes on the network.
LOCAL_ORIGIN = "https://pdf.accord.invalid/"
# How long a process keeps a parsed stylesheet and its fonts, and how many different ones (brand colours, say).
STYLESHEET_MAX_AGE = 3600  # seconds
STYLESHEETS_KEPT = 4

# fontTools logs every glyph list it subsets and WeasyPrint each step, at INFO: dozens of lines per PDF in the log.
for noisy in ("fontTools.subset", "weasyprint.progress"):
    logging.getLogger(noisy).setLevel(logging.WARNING)


class RefusedURL(ValueError):
    """The PDF asked for something outside the static files and media; WeasyPrint leaves it out."""


def render_pdf(html: str, *, stylesheet: str = "") -> bytes:
    """The PDF of ``html``, styled by ``stylesheet`` (CSS text, kept parsed: see the module's docstring) besides
    its own styles. Fonts, images and stylesheets come from the local static files and media only."""
    document = HTML(string=html, base_url=LOCAL_ORIGIN, url_fetcher=LocalFilesFetcher())
    if not stylesheet:
        return document.write_pdf()
    with _prepared_lock:
        prepared = _prepared(stylesheet)
        return document.write_pdf(stylesheets=[prepared.css], font_config=prepared.fonts)


def render_document(html: str, *, stylesheet: str = "") -> Document:
    """``html`` laid out in pages (WeasyPrint's Document), as ``render_pdf`` prints it: to look at its boxes."""
    document = HTML(string=html, base_url=LOCAL_ORIGIN, url_fetcher=LocalFilesFetcher())
    if not stylesheet:
        return document.render()
    with _prepared_lock:
        prepared = _prepared(stylesheet)
        return document.render(stylesheets=[prepared.css], font_config=prepared.fonts)


@dataclass
class PreparedStylesheet:
    """A stylesheet parsed by WeasyPrint, with the Fontconfig configuration its @font-face rules were loaded into
    (they belong together: the rules' fonts are only known to that configuration)."""

    css: CSS
    fonts: FontConfiguration
    prepared_at: float = field(default_factory=time.monotonic)


# The prepared stylesheets of this process, the most recently used last. One thread at a time uses them: Fontconfig
# and Pango objects are not meant for concurrent use, and WeasyPrint, pure Python, holds the GIL as it renders, so
# renders in several threads of one process would not run side by side anyway.
_prepared_stylesheets: OrderedDict[str, PreparedStylesheet] = OrderedDict()
_prepared_lock = threading.Lock()


def prepared_stylesheet(stylesheet: str) -> PreparedStylesheet:
    """``stylesheet`` parsed and its fonts loaded: once per process, then again after STYLESHEET_MAX_AGE."""
    with _prepared_lock:
        return _prepared(stylesheet)


def _prepared(stylesheet: str) -> PreparedStylesheet:
    prepared = _prepared_stylesheets.pop(stylesheet, None)
    if prepared is None or time.monotonic() - prepared.prepared_at > STYLESHEET_MAX_AGE:
        fonts = FontConfiguration()
        css = CSS(string=stylesheet, base_url=LOCAL_ORIGIN, url_fetcher=LocalFilesFetcher(), font_config=fonts)
        prepared = PreparedStylesheet(css=css, fonts=fonts)
    _prepared_stylesheets[stylesheet] = prepared
    while len(_prepared_stylesheets) > STYLESHEETS_KEPT:
        _prepared_stylesheets.popitem(last=False)
    return prepared


class LocalFilesFetcher(URLFetcher):
    """WeasyPrint's fetcher, limited to the static files and MEDIA_ROOT (see the module's docstring)."""

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        path = local_path(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), headers={"Content-Type": content_type})


def local_path(url: str) -> Path:
    """The file ``url`` stands for, if it is a static file or in MEDIA_ROOT; RefusedURL otherwise."""
    for prefix, find in (
        (_url_prefix(settings.STATIC_URL), _static_file),
        (_url_prefix(settings.MEDIA_URL), _media_file),
    ):
        if prefix and url.startswith(prefix):
            return _allowed(find(unquote(urlsplit(url[len(prefix) :]).path)), url)
    if urlsplit(url).scheme == "file":
        return _allowed(Path(url2pathname(urlsplit(url).path)), url)
    raise RefusedURL(f"PDFs read only local static files and media, not {url[:200]!r}")


def _url_prefix(setting_url: str | None) -> str:
    """STATIC_URL or MEDIA_URL as the fetcher sees it: absolute already, or on LOCAL_ORIGIN."""
    return urljoin(LOCAL_ORIGIN, setting_url) if setting_url else ""


def _static_file(relative: str) -> Path | None:
    try:
        found = finders.find(relative)
    except SuspiciousFileOperation:
        return None
    if found:
        return Path(found)
    if settings.STATIC_ROOT:  # collected static files, when the finders' folders are not there
        return _joined(settings.STATIC_ROOT, relative)
    return None


def _media_file(relative: str) -> Path | None:
    return _joined(settings.MEDIA_ROOT, relative) if settings.MEDIA_ROOT else None


def _joined(root, relative: str) -> Path | None:
    try:
        return Path(safe_join(root, relative))
    except SuspiciousFileOperation:
        return None


def _allowed(path: Path | None, url: str) -> Path:
    """``path`` itself, once resolved (links followed), is a file inside an allowed folder."""
    if path is not None:
        resolved = path.resolve()
        if resolved.is_file() and any(resolved.is_relative_to(root) for root in allowed_roots()):
            return resolved
    raise RefusedURL(f"not a static file or media: {url[:200]!r}")


def allowed_roots() -> tuple[Path, ...]:
    return _allowed_roots(
        tuple(map(str, settings.STATICFILES_DIRS)), str(settings.STATIC_ROOT or ""), str(settings.MEDIA_ROOT or "")
    )


@lru_cache(maxsize=4)
def _allowed_roots(static_dirs: tuple, static_root: str, media_root: str) -> tuple[Path, ...]:
    """The finders' folders (STATICFILES_DIRS and each app's static/), STATIC_ROOT and MEDIA_ROOT, resolved."""
    roots = [
        storage.location for finder in finders.get_finders() for storage in getattr(finder, "storages", {}).values()
    ]
    roots += [root for root in (static_root, media_root) if root]
    return tuple(Path(root).resolve() for root in roots)
