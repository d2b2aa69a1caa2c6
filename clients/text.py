"""Text helpers for search: Vietnamese with or without diacritics finds the same thing."""

import unicodedata

_EXTRA = str.maketrans({"đ": "d", "Đ": "d"})


def fold(text: str | None) -> str:
    """Lower-case, strip diacritics ('Nguyễn Đức' → 'nguyen duc') and squeeze white space."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", str(text).replace("\x00", "").translate(_EXTRA))
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(stripped.lower().split())


def search_text(*parts: str | None) -> str:
    return fold(" ".join(part for part in parts if part))
