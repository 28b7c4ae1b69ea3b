"""Scoring a query against one listed entity: names, birth dates, countries, identifiers.

``score_pair`` is the whole scorer (used by the index after retrieval and by the pairs
contract). Every score is in [0, 1] and comes with the features that made it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz.distance import JaroWinkler, Levenshtein

from legation.screening.normalise import Part, make_part, name_parts, rereadings, squeeze

ALGORITHM = "legation-screen-2"  # 2: variant readings, glossary of organisation words
DEFAULT_THRESHOLD = 0.7
WEAK_ALIAS_FACTOR = 0.85
TRANSLATION = 0.9  # two parts with the same glossary concept (a generic word, translated)
GENERIC_WORD = 0.5  # the weight of such a part against a proper name's
PART_CUTOFF = 0.7
UNMATCHED_QUERY_COST = 1.0
UNMATCHED_LISTED_COST = 0.35
DOB_EXACT = 0.05
DOB_YEAR = 0.02
DOB_YEAR_CONFLICT = -0.15
DOB_DAY_CONFLICT = -0.05
COUNTRY_MATCH = 0.03
COUNTRY_CONFLICT = -0.10
ID_WITH_NAME = 0.95
ID_ALONE = 0.85

PERSON_LIKE = frozenset({"Person"})
ORG_LIKE = frozenset({"Organization", "Company", "PublicBody"})
_GENERAL = frozenset({"LegalEntity", "Thing", ""})
_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")
_ID_CHARS = re.compile(r"[^0-9A-Z]")


Unit = tuple[frozenset[int], Part]


@dataclass(frozen=True, slots=True)
class Name:
    """One name of an entity with its parts; ``weak`` for weak/low-quality aliases.

    ``units`` are the parts and each pair of neighbours joined (for compounds), made once.
    """

    text: str
    parts: tuple[Part, ...]
    weak: bool = False
    units: tuple[Unit, ...] = ()

    @classmethod
    def of(cls, text: str, *, weak: bool = False) -> Name:
        parts = name_parts(text)
        return cls(text, parts, weak, units(parts))


def units(parts: Sequence[Part]) -> tuple[Unit, ...]:
    singles = [(frozenset({i}), p) for i, p in enumerate(parts)]
    pairs = [
        (frozenset({i, i + 1}), _merge(parts[i], parts[i + 1]))
        for i in range(len(parts) - 1)
        if not (parts[i].initial or parts[i + 1].initial)
    ]
    return tuple(singles + pairs)


@dataclass(slots=True)
class Subject:
    """A query or a listed entity reduced to what the scorer compares."""

    id: str
    schema: str
    names: list[Name]
    birth_dates: list[str] = field(default_factory=list)
    countries: set[str] = field(default_factory=set)
    identifiers: set[str] = field(default_factory=set)
    caption: str = ""
    dataset: str = ""

    @classmethod
    def build(
        cls,
        id: str,
        schema: str,
        names: Iterable[str],
        *,
        weak_names: Iterable[str] = (),
        birth_dates: Iterable[str] = (),
        countries: Iterable[str] = (),
        identifiers: Iterable[str] = (),
        caption: str = "",
        dataset: str = "",
    ) -> Subject:
        strong = [Name.of(n) for n in dict.fromkeys(_with_unbracketed(names)) if n.strip()]
        seen = {n.text for n in strong}
        weak = [
            Name.of(n, weak=True)
            for n in dict.fromkeys(_with_unbracketed(weak_names))
            if n not in seen
        ]
        all_names = [n for n in strong + weak if n.parts]
        return cls(
            id=id,
            schema=schema,
            names=all_names,
            birth_dates=[d for d in birth_dates if _DATE.match(d)],
            countries={c.lower() for c in countries if c},
            identifiers={i for i in (normalise_identifier(x) for x in identifiers) if i},
            caption=caption or (all_names[0].text if all_names else id),
            dataset=dataset,
        )


_BRACKETED = re.compile(r"\s*\([^()]*\)")


def _with_unbracketed(names: Iterable[str]) -> Iterator[str]:
    """Each name, and after it the name without its bracketed parts: an acronym or a
    qualifier ("… OFFICE (BRANCH LOCATED IN ALBU KAMAL)", "… PENINSULA (AQAP)") is not
    part of the name another source writes."""
    for name in names:
        yield name
        bare = " ".join(_BRACKETED.sub(" ", name).split())
        if bare and bare != " ".join(name.split()):
            yield bare


@dataclass(frozen=True, slots=True)
class Feature:
    score: float
    detail: str


@dataclass(slots=True)
class Result:
    score: float
    features: dict[str, Feature]
    name: str = ""

    def explanation(self) -> dict[str, dict[str, object]]:
        return {
            k: {"score": round(f.score, 4), "detail": f.detail} for k, f in self.features.items()
        }


def normalise_identifier(value: str) -> str:
    """Document numbers compared without spaces, dashes and case; short ones are ignored."""
    clean = _ID_CHARS.sub("", value.upper())
    return clean if len(clean) >= 5 and any(c.isdigit() for c in clean) else ""


def schemas_compatible(query: str, listed: str) -> bool:
    if query in _GENERAL or listed in _GENERAL or query == listed:
        return True
    return bool(query in ORG_LIKE and listed in ORG_LIKE)


def _weight(part: Part) -> float:
    if part.initial:
        return 0.5
    weight = min(1.0, 0.4 + 0.1 * len(part.latin))
    # a generic word (group, front, state, Levant…) says little about which organisation
    return weight * GENERIC_WORD if part.concept else weight


_AMBIGUOUS = str.maketrans({"z": "d", "c": "s", "j": "g", "k": "g"})


@lru_cache(maxsize=500_000)
def part_similarity(a: Part, b: Part) -> float:
    """Similarity of two name parts in [0, 1]; 0 below the cut-off."""
    if a.latin == b.latin:
        return 1.0
    if a.initial or b.initial:
        return 0.9 if a.latin[0] == b.latin[0] else 0.0
    if a.concept and a.concept == b.concept:  # "جبهة" and "Front": translated, not spelt
        return max(TRANSLATION, _spelling_similarity(a, b))
    if a.second or b.second:  # a Korean syllable: whichever of its readings is closer
        return max(_syllable_similarity(x, y) for x in _readings(a) for y in _readings(b))
    return _spelling_similarity(a, b)


def _readings(part: Part) -> tuple[Part, ...]:
    return (part, *rereadings(part)) if part.second else (part,)


def _string_similarity(a: str, b: str) -> float:
    """Jaro-Winkler, capped by edit distance so that a shared start cannot carry the rest."""
    return min(
        JaroWinkler.normalized_similarity(a, b, prefix_weight=0.1),
        Levenshtein.normalized_similarity(a, b) + 0.15,
    )


def _syllable_similarity(a: Part, b: Part) -> float:
    """Spelling alone, without the vowel classes of ``phonetic``: a syllable is two or three
    letters, and "eun" and "yo" (은, the "Un" of Kim Jong Un, and the "Yo" of Kim Yo Jong)
    must not pass as one sound."""
    latin = _string_similarity(a.latin, b.latin)
    if a.skeleton == b.skeleton and len(a.skeleton) >= 3:
        latin = max(latin, 0.7 + 0.2 * latin)
    return latin if latin >= PART_CUTOFF else 0.0


def _spelling_similarity(a: Part, b: Part) -> float:
    cross = a.abjad != b.abjad
    if not cross:
        la, lb = len(a.phonetic), len(b.phonetic)
        if abs(la - lb) * 2 > max(la, lb) + 1 and a.skeleton != b.skeleton:
            return 0.0  # lengths too far apart for any of the measures below to pass
    latin = _string_similarity(a.latin, b.latin)
    if a.phonetic == b.phonetic:
        phon = 0.95 + 0.04 * latin
    else:
        phon = 0.95 * _string_similarity(a.phonetic, b.phonetic)
    latin = max(latin, phon)
    if cross and a.skeleton != b.skeleton:
        same = _cross_skeletons_agree(a, b)
    else:
        same = a.skeleton == b.skeleton
    if same:
        if cross:
            sk = 0.93 + 0.05 * latin
        elif len(a.skeleton) >= 3:
            sk = 0.7 + 0.2 * latin
        else:
            sk = latin
    elif min(len(a.skeleton), len(b.skeleton)) >= 3:
        sk = 0.88 * Levenshtein.normalized_similarity(a.skeleton, b.skeleton)
    else:
        sk = 0.0
    best = max(latin, sk)
    return best if best >= PART_CUTOFF else 0.0


def _cross_skeletons_agree(a: Part, b: Part) -> bool:
    """Across scripts, either reading of either part may be the one the other side used.

    Arabic ض/ذ are d or z, ش sh or ch (French), ج j or g (Egypt), ق q or g (Maghreb),
    depending on who romanised them; ث is s in Persian and Urdu (``Part.variant``).
    """
    left = {k.translate(_AMBIGUOUS) for k in (a.skeleton, a.variant) if k}
    return any(k.translate(_AMBIGUOUS) in left for k in (b.skeleton, b.variant) if k)


def _merge(a: Part, b: Part) -> Part:
    latin = a.latin + b.latin
    keys = None
    if a.abjad and b.abjad:  # keys joined letter-wise, as each part's were made
        keys = (
            squeeze(a.skeleton + b.skeleton),
            squeeze((a.variant or a.skeleton) + (b.variant or b.skeleton)),
        )
    return make_part(a.original + " " + b.original, latin, keys=keys)


def compare_names(
    query: Sequence[Part],
    listed: Sequence[Part],
    q_units: Sequence[Unit] | None = None,
    r_units: Sequence[Unit] | None = None,
    *,
    explain: bool = True,
) -> tuple[float, str]:
    """Order-free alignment of parts (compounds may join two parts); a score and its pairs
    (the pairs' text only with ``explain``: the score is the same without)."""
    score, detail, _unmatched = align_names(query, listed, q_units, r_units, explain=explain)
    return score, detail


def align_names(
    query: Sequence[Part],
    listed: Sequence[Part],
    q_units: Sequence[Unit] | None = None,
    r_units: Sequence[Unit] | None = None,
    *,
    explain: bool = True,
) -> tuple[float, str, list[Part]]:
    """``compare_names`` with the listed parts left unmatched."""
    if not query or not listed:
        return 0.0, "no name", list(listed)
    options: list[tuple[float, float, frozenset[int], frozenset[int], Part, Part, float]] = []
    q_units = units(query) if q_units is None else q_units
    r_units = units(listed) if r_units is None else r_units
    for qi, qp in q_units:
        for rj, rp in r_units:
            merged = len(qi) + len(rj) > 2
            if merged and (
                len(qi) == len(rj)
                or (qp.abjad == rp.abjad and abs(len(qp.phonetic) - len(rp.phonetic)) > 3)
            ):
                continue
            sim = part_similarity(qp, rp)
            if sim <= 0.0 or (merged and sim < 0.9):
                continue
            w = (sum(_weight(query[i]) for i in qi) + sum(_weight(listed[j]) for j in rj)) / 2
            # equal options: the part in the nearer position first, so that in "امین الله
            # امین" ~ "AMINULLAH AMIN" the second امین takes AMIN and the first the compound
            gap = abs(min(qi) / len(query) - min(rj) / len(listed))
            options.append((sim * w, sim, qi, rj, qp, rp, -gap))
    options.sort(key=_option_order, reverse=True)
    used_q: set[int] = set()
    used_r: set[int] = set()
    num = 0.0
    den = 0.0
    details: list[str] = []
    for weighted, sim, qi, rj, qp, rp, _gap in options:
        if qi & used_q or rj & used_r:
            continue
        used_q |= qi
        used_r |= rj
        num += weighted
        den += weighted / sim
        if explain:
            detail = f"{qp.original}≈{rp.original} {sim:.2f}"
            if qp.concept and qp.concept == rp.concept and sim == TRANSLATION:
                detail += f" (translation: {qp.concept})"
            details.append(detail)
    for i, p in enumerate(query):
        if i not in used_q:
            den += _weight(p) * UNMATCHED_QUERY_COST
            if explain:
                details.append(f"{p.original} unmatched in query")
    unmatched = [p for j, p in enumerate(listed) if j not in used_r]
    for p in unmatched:
        den += _weight(p) * UNMATCHED_LISTED_COST
        if explain:
            details.append(f"{p.original} unmatched in list")
    if den <= 0:
        return 0.0, "no name", unmatched
    return num / den, "; ".join(details), unmatched


def _option_order(
    o: tuple[float, float, frozenset[int], frozenset[int], Part, Part, float],
) -> tuple[float, float, float]:
    """Likelier pairs first: similarity (to the hundredth), weight, then nearer position."""
    return (round(o[1], 2), o[0], o[6])


def _year(value: str) -> int:
    return int(value[:4])


def compare_dates(query: list[str], listed: list[str]) -> Feature | None:
    if not query or not listed:
        return None
    exact = year = near = day_conflict = False
    for q in query:
        for r in listed:
            if len(q) >= 10 and len(r) >= 10:
                if q[:10] == r[:10]:
                    exact = True
                elif q[:4] == r[:4]:
                    day_conflict = True
            if q[:4] == r[:4]:
                year = True
            elif abs(_year(q) - _year(r)) <= 1:
                near = True
    if exact:
        return Feature(DOB_EXACT, "birth date matches exactly")
    if year and day_conflict and not any(len(x) < 10 for x in query + listed):
        return Feature(DOB_DAY_CONFLICT, "same birth year, different day")
    if year:
        return Feature(DOB_YEAR, "birth year matches")
    if near:
        return Feature(0.0, "birth years one apart")
    return Feature(
        DOB_YEAR_CONFLICT, f"birth year conflict: {', '.join(query)} vs {', '.join(listed)}"
    )


def compare_countries(query: set[str], listed: set[str]) -> Feature | None:
    if not query or not listed:
        return None
    common = query & listed
    if common:
        return Feature(COUNTRY_MATCH, f"country matches: {', '.join(sorted(common))}")
    return Feature(
        COUNTRY_CONFLICT,
        f"country conflict: {', '.join(sorted(query))} vs {', '.join(sorted(listed))}",
    )


def best_name(query: Subject, listed: Subject, names: Iterable[int] | None = None) -> Result:
    """The best-scoring pair of names (weak aliases weighted down)."""
    best_score = 0.0
    best_pair: tuple[Name, Name] | None = None
    indices = range(len(listed.names)) if names is None else names
    for qn in query.names:
        for j in indices:
            ln = listed.names[j]
            score, _ = compare_names(qn.parts, ln.parts, qn.units, ln.units, explain=False)
            if ln.weak:
                score *= WEAK_ALIAS_FACTOR
            if score > best_score:
                best_score, best_pair = score, (qn, ln)
    if best_pair is None:
        return Result(0.0, {})
    qn, ln = best_pair  # the explanation of the best pair only
    score, detail = compare_names(qn.parts, ln.parts, qn.units, ln.units)
    if ln.weak:
        score *= WEAK_ALIAS_FACTOR
        detail += f" (weak alias, ×{WEAK_ALIAS_FACTOR})"
    return Result(score, {"name": Feature(score, detail)}, ln.text)


def score_pair(query: Subject, listed: Subject, names: Iterable[int] | None = None) -> Result:
    """Score ``query`` against ``listed``: best name, then identifiers, dates, countries."""
    if not schemas_compatible(query.schema, listed.schema):
        return Result(0.0, {"schema": Feature(0.0, f"{query.schema} vs {listed.schema}")})
    result = best_name(query, listed, names)
    score = result.score
    common_ids = query.identifiers & listed.identifiers
    if common_ids:
        floor = ID_WITH_NAME if score >= 0.5 else ID_ALONE
        detail = f"identifier matches: {', '.join(sorted(common_ids))}"
        result.features["identifier"] = Feature(floor, detail)
        score = max(score, floor)
    if score > 0:
        for key, feature in (
            ("birth_date", compare_dates(query.birth_dates, listed.birth_dates)),
            ("country", compare_countries(query.countries, listed.countries)),
        ):
            if feature is not None:
                result.features[key] = feature
                score += feature.score
    result.score = min(1.0, max(0.0, score))
    return result
