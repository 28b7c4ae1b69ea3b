"""Casualty counts: which number a 'killed' or 'injured' word refers to.

A casualty word takes its number from the side its grammar puts it on. In a passive clause
('At least 31 people, including 5 policemen and 2 children, were killed') the count is the
clause's subject: parts listed with commas and 'and' are added up ('Three security guards and
a police sub inspector were killed' is 4), what follows 'including' is a part of a count
already given, and attackers are not counted ('22 civilians, 2 police officers and 5 attackers
were killed' is 24). After an active verb the count is its object ('Two bombs killed 44',
'killing 2 policemen and 2 soldiers'). Other words fall back to the nearest number on the side
the language puts it ('6 people died', 'погибли 6'). The words that steer this come from the
language's lexicon (``counts``); a language without them keeps the fallback alone.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import NamedTuple

from legation.extract.lexicon import CountWords, Hit, Lexicon
from legation.extract.text import Token

_DIGITS = re.compile(r"^\d{1,5}$")
_NUMBER_WINDOW = 4  # the fallback looks this many words either side
_LIST_TOKENS = 16  # an object list ('killing 2 policemen and 2 soldiers') is at most this long
_SUBJECT_TOKENS = 30  # a passive clause's subject is looked for this far back
_ITEM_NUMBER = 4  # an item's count stands within its first words ('at least 31 people')
_SEPARATORS = re.compile(r"[,;:()\[\]]")
_CLOSES = re.compile(r"[;:]")


class Count(NamedTuple):
    """A casualty count, the position of its number (or of the words that make it), and
    whether it counts only attackers ('24 militants killed'): such a count stands only when
    the report gives no other."""

    value: int
    position: int
    attackers: bool = False


class _Item(NamedTuple):
    value: int
    position: int
    attackers: bool
    written: bool  # a number was written ('4 attackers'), not implied ('the attacker')


@dataclass(frozen=True, slots=True)
class CountReader:
    """Reads counts in one report: its tokens, text and lexicon; ``casualty`` holds the token
    positions of every casualty word (they end lists and clauses), ``skip`` those of dates."""

    tokens: list[Token]
    text: str
    lex: Lexicon
    casualty: Collection[int]
    skip: Collection[int]

    def count(self, hit: Hit) -> Count | None:
        """The count one casualty word refers to, if any."""
        words = self.lex.count_words
        if words is None:
            return self._nearest(hit, None)
        aux = self._auxiliary(hit, words)
        if aux is not None:
            found = self._passive(min(aux, hit.first), aux, words)
        elif self.tokens[hit.last].norm in words.active:
            found = self._object(hit, words)
            if found is None:
                return self._nearest(hit, words)
        else:
            return self._nearest(hit, words)
        return found if found is None or found.value > 0 else None  # 0: 'the attacker died'

    # -- grammar-led reading (languages with count words) ---------------------------------

    def _passive(self, start: int, aux: int, words: CountWords) -> Count | None:
        """The subject's count, read back from ``start`` (the auxiliary or the casualty
        words that hold it); one for 'was killed' without one; (0, …) for attackers."""
        found = self._subject(start, words)
        if found is None and self.tokens[aux].norm in words.singular_passive:
            return Count(1, aux)
        return found

    def _auxiliary(self, hit: Hit, words: CountWords) -> int | None:
        """Where the passive begins ('were' of 'were then shot dead'), or None if active."""
        tokens = self.tokens
        inside = [i for i in range(hit.first, hit.last) if tokens[i].norm in words.passive]
        if inside:
            return inside[0]
        i = hit.first - 1
        found = None
        while i >= 0 and tokens[i].sentence == tokens[hit.first].sentence:
            norm = tokens[i].norm
            if norm in words.passive:
                found = i
            elif norm not in words.skippable:
                break
            i -= 1
        return found

    def _subject(self, aux: int, words: CountWords) -> Count | None:
        """The count of a passive clause's subject, read back from its auxiliary."""
        tokens = self.tokens
        sentence = tokens[aux].sentence
        start = aux
        while start - 1 >= 0 and aux - start < _SUBJECT_TOKENS:
            before = start - 1
            token = tokens[before]
            if token.norm in words.relative and start == aux:
                start = before  # 'the shooter who was shot dead': the subject is before 'who'
                continue
            if (
                token.sentence != sentence
                or before in self.casualty
                or token.norm in words.clause
                or token.norm in words.passive
            ):
                break
            if ";" in self.text[token.end : tokens[start].start]:
                break
            start = before
        span = [
            i
            for i in self._without_parts(start, aux - 1, words)
            if tokens[i].norm not in words.relative and not self._bracketed(start, i)
        ]
        items = self._items(span, words)
        kept: list[_Item] = []
        for item in reversed(items):
            found = self._item(item, words)
            if found is None:
                break
            kept.append(found)
        kept.reverse()
        return _total(kept, self._total_noun(items[-len(kept)] if kept else [], words))

    def _object(self, hit: Hit, words: CountWords) -> Count | None:
        """The count of an active verb's object: 'killing 2 policemen and 2 soldiers'."""
        tokens = self.tokens
        sentence = tokens[hit.last].sentence
        span: list[int] = []
        if hit.last + 1 < len(tokens) and _SEPARATORS.search(
            self.text[tokens[hit.last].end : tokens[hit.last + 1].start]
        ):
            return None  # 'shot and injured, 2 of them critically': no object
        if hit.last + 1 < len(tokens) and tokens[hit.last + 1].norm in words.connectives | {"and"}:
            return None  # '48 killed and 67 injured'
        before_casualty = False
        for i in range(hit.last + 1, min(len(tokens), hit.last + 1 + _LIST_TOKENS)):
            token = tokens[i]
            before_casualty = i in self.casualty
            stop = token.norm in words.stops and not self._quantifies(i, words)  # 'at least'
            if (
                token.sentence != sentence
                or before_casualty
                or i in self.skip
                or stop
                or token.norm in words.including
            ):
                break
            span.append(i)
            if _CLOSES.search(self.text[token.end : token.end + 2]):
                break
        items = self._items(span, words)
        if before_casualty and items and items[-1][-1] == span[-1]:
            items.pop()  # 'kill one soldier, 3 injured': the 3 are the next word's
        kept: list[_Item] = []
        for item in items:
            found = self._item(item, words)
            if found is None:
                break
            kept.append(found)
        return _total(kept, self._total_noun(items[0] if items else [], words))

    def _quantifies(self, i: int, words: CountWords) -> bool:
        """'at' of 'at least 155', 'over' of 'over 30': a quantifier before a count."""
        if self.tokens[i].norm not in words.quantifiers or i + 1 >= len(self.tokens):
            return False
        following = self.tokens[i + 1]
        return following.norm in words.quantifiers or self.number_at(i + 1) is not None

    def _bracketed(self, start: int, i: int) -> bool:
        """Whether token ``i`` stands inside brackets opened after token ``start`` began:
        '40 personnel of the Central Reserve Police Force (CRPF) were killed'."""
        before = self.text[self.tokens[start].start : self.tokens[i].start]
        opened = before.count("(") + before.count("[")
        return opened > before.count(")") + before.count("]")

    def _without_parts(self, first: int, last: int, words: CountWords) -> list[int]:
        """Positions first..last without 'including …' parts (up to the next comma)."""
        kept = []
        i = first
        while i <= last:
            if self.tokens[i].norm in words.including:
                while i <= last and not (
                    i < last and "," in self.text[self.tokens[i].end : self.tokens[i + 1].start]
                ):
                    i += 1
                i += 1
                continue
            kept.append(i)
            i += 1
        return kept

    def _items(self, span: list[int], words: CountWords) -> list[list[int]]:
        """Listed parts: split at commas and at 'and'."""
        items: list[list[int]] = []
        current: list[int] = []
        for n, i in enumerate(span):
            token = self.tokens[i]
            if token.norm == "and" or token.norm == "&":
                if current:
                    items.append(current)
                current = []
                continue
            current.append(i)
            following = span[n + 1] if n + 1 < len(span) else None
            if following is not None and _SEPARATORS.search(
                self.text[token.end : self.tokens[following].start]
            ):
                items.append(current)
                current = []
        if current:
            items.append(current)
        return items

    def _item(self, item: list[int], words: CountWords) -> _Item | None:
        """'at least 31 people' -> 31, 'a police officer' -> 1, 'their driver' -> 1."""
        tokens = self.tokens
        attackers = any(tokens[i].norm.startswith(words.attackers) for i in item)
        rest = [i for i in item if tokens[i].norm not in words.connectives]
        while rest and tokens[rest[0]].norm in words.quantifiers:
            rest = rest[1:]
        if not rest:
            return None
        for n, i in enumerate(rest[:_ITEM_NUMBER]):
            if i in self.skip:
                return None
            value = self.number_at(i)
            if value is not None:
                return _Item(value, i, attackers, True)
            if n == 0 and tokens[i].norm not in words.definite | words.singular:
                break
        head = tokens[rest[0]].norm
        last = tokens[rest[-1]].norm
        plural = len(rest) > 1 and last.endswith("s") and not last.endswith(("ss", "us", "is"))
        if (head in words.singular or head in words.definite) and not plural:
            return _Item(1, rest[0], attackers, False)
        return None

    def _total_noun(self, item: list[int], words: CountWords) -> bool:
        return any(self.tokens[i].norm in words.totals for i in item)

    # -- the nearest number (every language) ----------------------------------------------

    def _nearest(self, hit: Hit, words: CountWords | None) -> Count | None:
        """Numbers on the side where the language puts them come first ('killing' and
        Russian verbs look right, other English and Turkish words left); the nearest on that
        side wins, a number of attackers ('4 attackers also died') only when no other is
        near."""
        tokens = self.tokens
        sentence = tokens[hit.first].sentence
        lo = max(0, hit.first - _NUMBER_WINDOW)
        hi = min(len(tokens) - 1, hit.last + _NUMBER_WINDOW)
        language = self.lex.language
        right_first = language == "ru" or (
            language == "en" and tokens[hit.last].norm.endswith("ing")
        )
        candidates = []
        for i in range(lo, hi + 1):
            token = tokens[i]
            if i in self.skip or token.sentence != sentence or hit.first <= i <= hit.last:
                continue
            value = self.number_at(i)
            if value is None:
                continue
            attackers = words is not None and self._of_attackers(i, words)
            after = i > hit.last
            distance = i - hit.last if after else hit.first - i
            candidates.append((attackers, after != right_first, distance, value, i))
        if not candidates:
            return None
        attackers, _, _, value, index = min(candidates)
        return Count(value, index, attackers)

    def _of_attackers(self, i: int, words: CountWords) -> bool:
        following = range(i + 1, min(len(self.tokens), i + 3))
        return any(
            self.tokens[j].sentence == self.tokens[i].sentence
            and self.tokens[j].norm.startswith(words.attackers)
            for j in following
        )

    def number_at(self, i: int) -> int | None:
        """The number token ``i`` writes: '31', 'three', 'twenty-two', 'Twenty 2'; not a
        year ('held in 1995')."""
        token = self.tokens[i]
        value = _number(token.norm, self.lex)
        if value is None and "-" in token.norm:
            parts = [_number(p, self.lex) for p in token.norm.split("-")]
            if len(parts) == 2 and parts[0] is not None and parts[1] is not None:
                value = _compound(parts[0], parts[1])
        if value is not None and i + 1 < len(self.tokens):
            following = self.tokens[i + 1]
            unit = (
                _number(following.norm, self.lex) if following.sentence == token.sentence else None
            )
            if unit is not None:
                value = _compound(value, unit) or value
        return value


def _compound(tens: int, unit: int) -> int | None:
    """'twenty' and 'two' make 22; other pairs make nothing."""
    if tens % 10 == 0 and 20 <= tens <= 90 and 1 <= unit <= 9:
        return tens + unit
    return None


def _number(norm: str, lex: Lexicon) -> int | None:
    if _DIGITS.match(norm):  # norm drops a Turkish suffix: "500'den" -> "500"
        value = int(norm)
        if 1900 <= value <= 2099 and len(norm) == 4:  # a year
            return None
        return value if value < 5000 else None
    if norm in ("a", "an", "bir"):
        return None
    return lex.numbers.get(norm)


def _total(items: list[_Item], first_is_total: bool) -> Count | None:
    """The sum of listed parts that are not attackers; a first part that the others add up
    to is the total ('40 people, 6 security personnel and 34 civilians'). Attackers count
    only when no one else is listed and their number is written ('6 gunmen were killed', not
    'the attacker was killed', which gives 0)."""
    if not items:
        return None
    counted = [item for item in items if not item.attackers]
    if not counted:
        written = [item for item in items if item.written]
        if not written:
            return Count(0, items[0].position, attackers=True)
        return Count(sum(item.value for item in written), written[0].position, attackers=True)
    parts = sum(item.value for item in counted[1:])
    if first_is_total and len(counted) > 2 and counted[0].value == parts:
        return Count(counted[0].value, counted[0].position)
    return Count(counted[0].value + parts, counted[0].position)
