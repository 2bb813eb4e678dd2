"""Whether a text shows anything: a reason of zero-width spaces is no reason."""

from __future__ import annotations

import unicodedata

# Letters, digits, punctuation and symbols are visible; format characters (zero-width spaces, bidi
# marks), separators, controls and lone combining marks are not. These few are letters or symbols
# by category that render as nothing (Hangul fillers, the braille blank).
_BLANK_GRAPHICS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def has_visible_text(text: str | None) -> bool:
    """True when ``text`` shows at least one character."""
    return any(unicodedata.category(ch)[0] in "LNPS" and ch not in _BLANK_GRAPHICS for ch in text or "")
