"""Free-text museum dates -> an inclusive year range.

Museum exports write dates for people ("c. 1710", "1890-95", "ca. 50-40 BCE", "late 18th C",
"early to mid-1600s", "c. 1585; border added probably 1700s"). The catalogue keeps that text
as it is and adds ``year_start``/``year_end`` so paintings can be filtered and sorted by period.

Rules (each one is a row of the table in ``tests/catalog/test_dates.py``):

* The first date expression in the text wins: later clauses describe reworking, borders,
  exhibitions or restorations, not the making of the painting.
* Qualifiers ("c.", "ca.", "about", "probably", "?", "dated", "exhibited", "before", "after")
  are dropped; the stated year is kept as both bounds, not as an open interval.
* "1890-95" (hyphen or en dash), "1560/68", "1813 or 1821", "1740s-50s": a shortened second
  year borrows the leading digits of the first.
* "1650s" is a decade (1650..1659); "1300s" (ending in 00) is a century (1300..1399);
  "19th century" is 1801..1900. "early"/"mid"/"late" take the first/middle/last third of it.
* BCE/BC dates are negative years ("ca. 50-40 BCE" -> -50..-40), as is a leading minus sign.
* No year at all ("Date unknown", "not dated") gives ``(None, None)``.
"""

from __future__ import annotations

import re

MIN_YEAR = -50_000
MAX_YEAR = 2_100

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
)
_WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_MOD = r"(?:early|mid|late)"
_QUALIFIER = r"(?:(?:c|ca|circa|about|after|before|probably|possibly)\.?\s*|\?\s*)*"


def _point(p: str) -> str:
    """One date point: optional early/mid/late (or a span of them), a number, a decade or
    century suffix. ``p`` prefixes the group names so two points fit in one pattern."""
    return (
        rf"(?P<{p}mod>{_MOD}(?:\s*-?\s*(?:to|or)\s*{_MOD})?\s*-?\s*)?"
        rf"(?<!\d)(?P<{p}num>\d{{1,4}})(?!\d)"
        rf"(?:(?P<{p}dec>s)\b|(?P<{p}ord>st|nd|rd|th)\b(?:[\s-]*(?:century|cent\b\.?|c\b\.?))?)?"
    )


_RANGE = re.compile(
    _point("a")
    + rf"(?:\s*(?:-|/|\bto\b|\bor\b|\band\b)\s*{_QUALIFIER}"
    + _point("b")
    + r")?"
    + r"(?:\s*(?P<era>b\.?\s?c\.?(?:\s?e\.?)?(?![a-z])|c\.?\s?e\.?(?![a-z])|a\.?\s?d\.?(?![a-z])))?"
)
# en dash, em dash, figure dash, non-breaking hyphen, minus sign
_DASHES = str.maketrans(dict.fromkeys("\u2013\u2014\u2012\u2011\u2212", "-"))


def _clean(text: str) -> str:
    s = text.lower().translate(_DASHES)
    s = re.sub(r"\([^)]*\)", " ", s)  # "(year 239 of the Newar Samvat ...)"
    s = re.sub(rf"\b(?:{_WEEKDAYS})\b,?", " ", s)
    s = re.sub(rf"\b(?:{_MONTHS})\b\.?\s*(?:\d{{1,2}}(?:st|nd|rd|th)?\b,?)?", " ", s)
    s = re.sub(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?=(?:{_MONTHS})\b)", " ", s)
    return " ".join(s.split())


def _thirds(start: int, end: int, mod: str) -> tuple[int, int]:
    n = end - start + 1
    cut1, cut2 = start + n // 3, start + (2 * n) // 3
    return {"early": (start, cut1 - 1), "mid": (cut1, cut2 - 1), "late": (cut2, end)}[mod]


def _span(num: int, *, decade: bool, ordinal: bool, mod: str | None) -> tuple[int, int]:
    if ordinal:
        start, end = (num - 1) * 100 + 1, num * 100
    elif decade and num % 100 == 0:
        start, end = num, num + 99
    elif decade and num % 10 == 0:
        start, end = num, num + 9
    else:
        return num, num
    if not mod:
        return start, end
    words = re.findall(_MOD, mod)
    first, last = _thirds(start, end, words[0]), _thirds(start, end, words[-1])
    return first[0], last[1]


def _point_span(match: re.Match[str], p: str, *, borrow_from: str | None = None) -> tuple[int, int]:
    digits = match.group(f"{p}num")
    if borrow_from is not None and len(digits) < len(borrow_from):
        digits = borrow_from[: len(borrow_from) - len(digits)] + digits
    return _span(
        int(digits),
        decade=match.group(f"{p}dec") is not None,
        ordinal=match.group(f"{p}ord") is not None,
        mod=match.group(f"{p}mod"),
    )


def parse_date(text: str | None) -> tuple[int | None, int | None]:
    """Return ``(year_start, year_end)`` for a free-text date, or ``(None, None)``."""
    if not text:
        return None, None
    s = _clean(text)
    negative = bool(re.match(r"^-\s*\d", s))
    match = _RANGE.search(s)
    if match is None:
        return None, None
    bce = negative or (match.group("era") or "").startswith("b")
    spans = [_point_span(match, "a")]
    if match.group("bnum") is not None:
        # "1890-95": the shortened second year borrows the first's leading digits (never in BCE
        # ranges, which count down: "50-40 BCE").
        spans.append(_point_span(match, "b", borrow_from=None if bce else match.group("anum")))
    if bce:
        spans = [(-end, -start) for start, end in spans]
        start, end = min(s for s, _ in spans), max(e for _, e in spans)
    else:
        start, end = spans[0]
        if len(spans) == 2 and spans[1][1] >= start:
            end = spans[1][1]
    if not (MIN_YEAR <= start <= end <= MAX_YEAR):
        return None, None
    return start, end
