"""Incident dates from text, resolved against the publication time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from legation.extract.lexicon import Lexicon
from legation.extract.text import Token

_DAY = re.compile(r"^\d{1,2}$")
_YEAR = re.compile(r"^(1[89]|20)\d\d$")


@dataclass(frozen=True, slots=True)
class DateMention:
    value: date
    first: int
    last: int
    sentence: int
    explicit: bool  # a calendar date rather than "on Monday"


def find_dates(tokens: list[Token], lex: Lexicon, published: date | None) -> list[DateMention]:
    """Calendar dates ("19 December", "December 19, 2016", "19 Aralık") and relative days."""
    found: list[DateMention] = []
    for i, token in enumerate(tokens):
        month = _month(token.norm, lex)
        if month is not None:
            found.extend(_calendar_date(tokens, i, month, published))
            continue
        if token.norm in lex.weekdays and published is not None:
            found.append(_weekday(token, i, lex.weekdays[token.norm], published))
        elif published is not None:
            relative = _relative(tokens, i, lex)
            if relative is not None:
                offset, last = relative
                found.append(
                    DateMention(published + timedelta(days=offset), i, last, token.sentence, False)
                )
    return found


def _month(word: str, lex: Lexicon) -> int | None:
    if word in lex.months:
        return lex.months[word]
    for stem, value in lex.month_stems:
        if word.startswith(stem):
            return value
    return None


def _calendar_date(
    tokens: list[Token], i: int, month: int, published: date | None
) -> list[DateMention]:
    day_at = None
    if i > 0 and _DAY.match(tokens[i - 1].text):
        day_at = i - 1
    elif i + 1 < len(tokens) and _DAY.match(tokens[i + 1].text):
        day_at = i + 1
    if day_at is None:
        return []
    day = int(tokens[day_at].text)
    last = max(i, day_at)
    year = None
    if last + 1 < len(tokens) and _YEAR.match(tokens[last + 1].text):
        year, last = int(tokens[last + 1].text), last + 1
    value = _resolve(day, month, year, published)
    if value is None:
        return []
    return [DateMention(value, min(i, day_at), last, tokens[i].sentence, True)]


def _resolve(day: int, month: int, year: int | None, published: date | None) -> date | None:
    """Without a year, the latest such date not after publication."""
    if year is None:
        if published is None:
            return None
        year = published.year
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate > published + timedelta(days=1):
            year -= 1
    return _safe_date(year, month, day)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _weekday(token: Token, i: int, weekday: int, published: date) -> DateMention:
    back = (published.weekday() - weekday) % 7
    return DateMention(published - timedelta(days=back), i, i, token.sentence, False)


def _relative(tokens: list[Token], i: int, lex: Lexicon) -> tuple[int, int] | None:
    if i + 1 < len(tokens):
        pair = f"{tokens[i].norm} {tokens[i + 1].norm}"
        if pair in lex.relative_days:
            return lex.relative_days[pair], i + 1
    if tokens[i].norm in lex.relative_days:
        return lex.relative_days[tokens[i].norm], i
    return None
