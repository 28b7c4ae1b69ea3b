"""Geoparsing: find place mentions in tokens and pick the incident's place."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace

from legation.domain.models import Place
from legation.extract.gazetteer import Entry, Gazetteer, LocalIndex, local_key, skeleton
from legation.extract.text import Token, fold, is_mostly_upper, tokenize

# Russian case endings tried when a word is not in the gazetteer as written.
_RU_ENDINGS = (
    ("е", ("а", "я", "")),
    ("и", ("я", "а", "ь")),
    ("у", ("а", "")),
    ("ы", ("а",)),
    ("ом", ("",)),
    ("ой", ("а",)),
    ("ю", ("я",)),
    ("ем", ("",)),
    ("а", ("",)),
)


_NAME_GUARD_POPULATION = 200_000
_CAPITALS_POPULATION = 500_000  # in all-caps text, a city in a country not named must be this big
_DOMINANCE = 5  # a namesake this many times as populous as any other is the one meant
_REPEATED = 0.5  # a place named again ('MONTERIA' four times) gains this much each time,
_MAX_REPEATS = 3  # up to this many times
_WEAK_HINT = 0.25  # a hint without a sentence (a group's home country) counts this much
_MAX_COUNTRY_VOTES = 8.0  # a country named again and again outweighs one foreign city nearby


@dataclass(frozen=True, slots=True)
class PlaceMention:
    entries: tuple[Entry, ...]
    first: int
    last: int
    sentence: int
    fuzzy: bool = False  # matched by skeleton, not by spelling


def find_places(
    tokens: list[Token], gaz: Gazetteer, *, any_case: bool, skip: frozenset[int] = frozenset()
) -> list[PlaceMention]:
    """Longest-match place names; in mixed-case text only capitalised words count."""
    mentions: list[PlaceMention] = []
    i = 0
    while i < len(tokens):
        found = None
        if i not in skip and (any_case or tokens[i].capitalised):
            found = _match_longest(tokens, i, gaz)
        if found is None:
            i += 1
            continue
        last, entries = found
        mentions.append(PlaceMention(tuple(entries), i, last, tokens[i].sentence))
        i = last + 1
    return mentions


def _match_longest(tokens: list[Token], i: int, gaz: Gazetteer) -> tuple[int, list[Entry]] | None:
    if tokens[i].norm not in gaz.first_words:
        entries = _inflected(tokens[i].norm, gaz)
        return (i, entries) if entries else None
    # a name does not cross a sentence: the longest window is the run of the same sentence
    sentence = tokens[i].sentence
    longest = 1
    for j in range(i + 1, min(i + gaz.longest, len(tokens))):
        if tokens[j].sentence != sentence:
            break
        longest += 1
    for size in range(longest, 0, -1):
        window = tokens[i : i + size]
        name = " ".join(t.norm for t in window)
        entries = gaz.names.get(name) or (_inflected(name, gaz) if size == 1 else None)
        if entries and size == 1 and _looks_like_a_name(tokens, i, entries, gaz):
            return None
        if entries and _after_a_given_name(tokens, i, entries, gaz):
            return None
        if entries:
            # 'Colombia' is the country, not the town of Huila that shares its name
            countries = [e for e in entries if e.is_country]
            return i + size - 1, countries or entries
    return None


def _looks_like_a_name(tokens: list[Token], i: int, entries: list[Entry], gaz: Gazetteer) -> bool:
    """'David Amess': a small town's name followed by another capitalised word is a person."""
    if any(e.is_country or e.population >= _NAME_GUARD_POPULATION for e in entries):
        return False
    if _after_a_name_word(tokens, i, gaz):
        return True
    following = tokens[i + 1] if i + 1 < len(tokens) else None
    return bool(
        following is not None
        and following.sentence == tokens[i].sentence
        and following.capitalised
        and following.norm not in gaz.first_words
        and following.norm not in gaz.admin_words  # 'Balkh Province'
        and not tokens[i].text.isupper()
    )


def _after_a_given_name(tokens: list[Token], i: int, entries: list[Entry], gaz: Gazetteer) -> bool:
    """'AMBASSADOR WILLIAM WALKER', 'COLONEL ORLANDO ZEPEDA': in all-caps copy a town's name
    right after a given name or a title is a surname (or a given name); a country's is not."""
    if i < 1 or not tokens[i].text.isupper() or any(e.is_country for e in entries):
        return False
    before = tokens[i - 1]
    return before.sentence == tokens[i].sentence and before.norm in gaz.before_names


def _after_a_name_word(tokens: list[Token], i: int, gaz: Gazetteer) -> bool:
    """'Momand Dara District', 'Gulshan Thana': a small town's name right after a
    capitalised word that is no place (and does not open the sentence) ends a longer name."""
    if i < 1 or tokens[i].text.isupper():
        return False
    before = tokens[i - 1]
    opens = i < 2 or tokens[i - 2].sentence != before.sentence
    return (
        before.sentence == tokens[i].sentence
        and before.capitalised
        and not opens
        and not before.text.isupper()
        and before.norm not in gaz.first_words
        and before.norm not in gaz.demonyms
    )


def _inflected(word: str, gaz: Gazetteer) -> list[Entry] | None:
    if word.isascii():  # the endings are Russian: a Latin word has none of them
        return None
    for ending, replacements in _RU_ENDINGS:
        if word.endswith(ending) and len(word) > len(ending) + 2:
            stem = word[: -len(ending)]
            for replacement in replacements:
                entries = gaz.names.get(stem + replacement)
                if entries:
                    return entries
    return None


def find_towns(
    tokens: list[Token], gaz: Gazetteer, *, country: str, any_case: bool
) -> list[PlaceMention]:
    """Small towns of one country named in the text (one to three words)."""
    towns = gaz.towns
    found = []
    for i, token in enumerate(tokens):
        if not (any_case or token.capitalised):
            continue
        for size in (3, 2, 1):
            window = tokens[i : i + size]
            if len(window) < size or any(t.sentence != token.sentence for t in window):
                continue
            entries = [
                e
                for e in towns.get(local_key(" ".join(t.norm for t in window)), ())
                if e.place.country == country
            ]
            if entries:
                found.append(PlaceMention(tuple(entries), i, i + size - 1, token.sentence))
                break
    return found


def find_hints(
    tokens: list[Token], gaz: Gazetteer, *, any_case: bool, skip: frozenset[int] = frozenset()
) -> list[tuple[str, int]]:
    """(country code, sentence) for region names and adjectives ("Borno", "Afghan")."""
    found = []
    for i, token in enumerate(tokens):
        if not (any_case or token.capitalised) or i in skip:
            continue
        pair = f"{token.norm} {tokens[i + 1].norm}" if i + 1 < len(tokens) else ""
        code = gaz.hints.get(pair) or gaz.hints.get(token.norm)
        if code:
            found.append((code, token.sentence))
    return found


def choose_place(
    mentions: list[PlaceMention],
    core_sentences: set[int],
    hints: list[tuple[str, int]],
    gaz: Gazetteer,
    *,
    any_case: bool = False,
) -> tuple[Entry, PlaceMention | None] | None:
    """The most specific, best-supported place, preferring sentences about the event.

    Region names and adjectives vote for a country; alone, they give the country. In
    all-caps text, where any word may look like a town, a city counts only in a country
    the text names, or when it is large.
    """
    if any_case:
        mentions = _plausible_in_capitals(mentions)
    named = {e.place.country for m in mentions for e in m.entries if e.is_country}
    mentions = mentions if any_case else [_dominant(m, named) for m in mentions]
    countries = _country_votes(mentions, core_sentences)
    for code, sentence in hints:
        weight = _WEAK_HINT if sentence < 0 else 1.0 if sentence in core_sentences else 0.5
        countries[code] = countries.get(code, 0.0) + weight
    if not mentions:
        if not countries:
            return None
        code = max(countries, key=lambda c: countries[c])
        entry = gaz.country(code)
        return (entry, None) if entry is not None else None
    named_times: dict[Place, int] = {}  # towns named again (a country's votes count already)
    for mention in mentions:
        for entry in mention.entries:
            if not entry.is_country:
                named_times[entry.place] = named_times.get(entry.place, 0) + 1
    scored = [
        (
            _score(entry, mention, core_sentences, countries)
            + _REPEATED * min(named_times.get(entry.place, 1) - 1, _MAX_REPEATS),
            entry,
            mention,
        )
        for mention in mentions
        for entry in mention.entries
    ]
    best = max(scored, key=lambda s: s[0])
    if best[1].is_country:
        # the country won: its best-supported city named anywhere ('SAN SALVADOR, 3 JAN 90 --'
        # then only 'EL SALVADOR' in the story) says more than the country alone
        inside = [
            s for s in scored if not s[1].is_country and s[1].place.country == best[1].place.country
        ]
        if inside:
            best = max(inside, key=lambda s: s[0])
    return best[1], best[2]


def _dominant(mention: PlaceMention, named: set[str]) -> PlaceMention:
    """'Damascus' is the Syrian capital, not the American town of 15,000 people: a namesake
    that outnumbers every other one many times over is the one meant, unless the text names
    the country of another ('Tripoli, Lebanon')."""
    if len(mention.entries) < 2:
        return mention
    ranked = sorted(mention.entries, key=lambda e: e.population, reverse=True)
    if ranked[0].is_country or ranked[0].population < _DOMINANCE * ranked[1].population:
        return mention
    if any(e.place.country in named for e in ranked[1:]):
        return mention
    return PlaceMention((ranked[0],), mention.first, mention.last, mention.sentence, mention.fuzzy)


def _plausible_in_capitals(mentions: list[PlaceMention]) -> list[PlaceMention]:
    named = {e.place.country for m in mentions for e in m.entries if e.is_country}
    kept = []
    for mention in mentions:
        entries = tuple(
            e
            for e in mention.entries
            if e.is_country or e.place.country in named or e.population >= _CAPITALS_POPULATION
        )
        if entries:
            kept.append(PlaceMention(entries, mention.first, mention.last, mention.sentence))
    return kept


def _country_votes(mentions: list[PlaceMention], core: set[int]) -> dict[str, float]:
    votes: dict[str, float] = {}
    for mention in mentions:
        weight = 2.0 if mention.sentence in core else 1.0
        for code in {e.place.country for e in mention.entries}:
            votes[code] = votes.get(code, 0.0) + weight / len(mention.entries)
    return votes


def _score(
    entry: Entry, mention: PlaceMention, core: set[int], countries: dict[str, float]
) -> float:
    score = 0.0 if entry.is_country else 1.0
    if mention.sentence in core:
        score += 2.0
    score += 0.5 * min(countries.get(entry.place.country, 0.0), _MAX_COUNTRY_VOTES)
    score += min(entry.population, 10_000_000) / 10_000_000  # tie-break towards larger places
    if len(mention.entries) > 1:
        score -= 0.3
    return score


def locate(text: str, gaz: Gazetteer) -> Entry | None:
    """The place a location text names ('Kasab, Latakia district, Latakia governorate, Syria').

    Such texts go from the most to the least specific: the first town or village of a named
    country wins, the one inside the regions the text names when several share the name;
    without one, the finest region named ('Charkh district', then 'Logar province'); then
    the country.
    """
    tokens, listed = _without_lists(text, tokenize(text), gaz.plural_admin_words)
    any_case = is_mostly_upper(text)
    mentions = find_places(tokens, gaz, any_case=any_case)
    hints = find_hints(tokens, gaz, any_case=any_case)
    named = {e.place.country for m in mentions for e in m.entries if e.is_country}
    named |= _former_states(tokens, gaz)
    named |= {code for code, _ in hints} if not named else set()
    if not named:
        chosen = choose_place(mentions, {t.sentence for t in tokens}, hints, gaz, any_case=any_case)
        return chosen[0] if chosen else None
    named |= {code for c in list(named) for code in gaz.seceded.get(c, ())}
    local = gaz.local
    countries = {
        i for m in mentions if any(e.is_country for e in m.entries) for i in (m.first, m.last)
    }
    regions = [
        _one_level(m, _neighbours(text, tokens, m) & gaz.second_level_words)
        for m in _typed(text, tokens, find_local(tokens, local, named, any_case, True), gaz, True)
        if m.first not in countries and m.last not in countries
    ]
    places = [
        m
        for m in _typed(text, tokens, find_local(tokens, local, named, any_case, False), gaz, False)
        if not any(_within(m, r) for r in regions)
        and m.first not in countries  # 'Mozambique, Mozambique' is the country, not the town
    ]
    admin1 = _containing(regions)
    for mention in places:
        admin2 = {
            e.admin2
            for r in regions
            if r.last < mention.first or r.first > mention.last  # not the place's own name
            for e in r.entries
            if e.admin2 and (not admin1 or (e.place.country, e.place.admin1) in admin1)
        }
        entry = _inside(
            mention.entries,
            admin1,
            admin2,
            strict=mention.fuzzy,
            alone=_alone(text, tokens, mention, gaz.settlement_words),
        )
        if entry is not None:
            return entry
    typed = [r for r in regions if _neighbours(text, tokens, r) & gaz.admin_words]
    finest = _finest_region(typed + [r for r in regions if r not in typed], admin1)
    if finest is None or finest.place.precision == "admin1":
        seat = _seat(text, tokens, local, named, any_case, regions, admin1, gaz)
        if seat is not None:
            return seat
    if (
        finest is not None
        and finest.centre is not None
        and _heads(text, tokens, regions, finest, listed)
    ):
        lat, lon = finest.centre
        return replace(finest, place=replace(finest.place, lat=lat, lon=lon))
    return finest or _country_of(mentions, named, gaz)


def _without_lists(
    text: str, tokens: list[Token], plurals: frozenset[str]
) -> tuple[list[Token], int]:
    """A part of a location text that lists regions ('Nangarhar, Logar … and Helmand
    provinces, Kandahar province, Afghanistan') says where the wider operation was, not the
    event: its names are left out (whole parts between commas, ending in a plural). Also
    where the list ends in the text (0 without one)."""
    cut: list[tuple[int, int]] = []
    start = 0
    for part in text.split(","):
        end = start + len(part)
        words = part.split()
        if words and fold(words[-1].strip(".")) in plurals:
            cut.append((start, end))
        start = end + 1
    if not cut:
        return tokens, 0
    # the list runs back over the comma-separated names before its plural
    first = cut[0][0]
    while first > 0:
        before = text[: first - 1].rsplit(",", 1)
        segment = before[-1]
        if len(segment.split()) > 3 or not segment.strip():
            break
        first -= len(segment) + 1
    cut[0] = (first, cut[0][1])
    kept = [t for t in tokens if not any(a <= t.start < b for a, b in cut)]
    if not kept:  # nothing but the list: it is all the text says
        return tokens, 0
    return kept, cut[-1][1]


def _alone(
    text: str, tokens: list[Token], mention: PlaceMention, settlements: frozenset[str]
) -> bool:
    """Whether the text's first part is this place's name alone, or with a word such as
    'town' or 'village' ('Magburaka town, …'; not 'San Mateo neighborhood, …')."""
    start, end = tokens[mention.first].start, tokens[mention.last].end
    if text[:start].strip():
        return False
    rest = text[end:].split(",", 1)[0].split()
    return not rest or (len(rest) == 1 and fold(rest[0].strip(".")) in settlements)


def _heads(
    text: str, tokens: list[Token], regions: list[PlaceMention], entry: Entry, listed: int = 0
) -> bool:
    """Whether the region is what the text names first ('Helmand province, Afghanistan'),
    not the fallback for a smaller place it names before and the table lacks ('Baba Amrow,
    Homs governorate'): the region itself is meant, at its conventional point."""
    for mention in regions:
        if entry in mention.entries:
            before = text[listed : tokens[mention.first].start]
            return "," not in (before.lstrip(", ") if listed else before)
    return False


def _seat(
    text: str,
    tokens: list[Token],
    local: LocalIndex,
    named: set[str],
    any_case: bool,
    regions: list[PlaceMention],
    admin1: set[tuple[str, str | None]],
    gaz: Gazetteer,
) -> Entry | None:
    """'Kenema district' when the table has no such district but a town of Kenema: the town
    that names the district (usually its seat) is nearer the district than the province's
    middle is."""
    for mention in find_local(tokens, local, named, any_case, False):
        words = _neighbours(text, tokens, mention)
        if not words & gaz.admin_words or mention.fuzzy:
            continue
        # a district named like its province ('Deir ez Zor district, Deir ez Zor
        # governorate') matched only the province: the table lacks the district
        if any(
            _within(mention, r) or r.first == mention.first
            for r in regions
            if not (words & gaz.second_level_words and _top_only(r))
        ):
            continue
        entry = _inside(mention.entries, admin1, set(), strict=True)
        if entry is not None:
            return entry
    return None


def _top_only(mention: PlaceMention) -> bool:
    return all(e.place.precision == "admin1" for e in mention.entries)


def _former_states(tokens: list[Token], gaz: Gazetteer) -> set[str]:
    """Successors of a former state named ('Yugoslavia', 'Soviet Union')."""
    found: set[str] = set()
    for i, token in enumerate(tokens):
        pair = f"{token.norm} {tokens[i + 1].norm}" if i + 1 < len(tokens) else ""
        found.update(gaz.former.get(pair) or gaz.former.get(token.norm) or ())
    return found


def _one_level(mention: PlaceMention, district_word: AbstractSet[str]) -> PlaceMention:
    """A name both of a first-level region and of a district in it ('Kandahar', 'Miranda')
    is the first-level region's, unless a word next to it says district ('Deir ez Zor
    district, Deir ez Zor governorate')."""
    if district_word:
        second = tuple(e for e in mention.entries if e.place.precision == "admin2")
        if second:
            return PlaceMention(second, mention.first, mention.last, mention.sentence)
    top = tuple(e for e in mention.entries if e.place.precision == "admin1")
    if not top or len(top) == len(mention.entries):
        return mention
    return PlaceMention(top, mention.first, mention.last, mention.sentence)


def _containing(regions: list[PlaceMention]) -> set[tuple[str, str | None]]:
    """The first-level region the place is in: the last one named, as location texts end
    with the broadest unit ('…, Wardak province, Afghanistan'). A name matched only by its
    skeleton does not count ('North Eastern' is not 'North Western')."""
    for mention in reversed([r for r in regions if not r.fuzzy]):
        top = {
            (e.place.country, e.place.admin1)
            for e in mention.entries
            if e.place.precision == "admin1"
        }
        if top:
            return top
    return set()


def _within(inner: PlaceMention, outer: PlaceMention) -> bool:
    """'Jammu' in 'Jammu and Kashmir'."""
    longer = outer.last - outer.first > inner.last - inner.first
    return longer and outer.first <= inner.first and inner.last <= outer.last


def find_local(
    tokens: list[Token], local: LocalIndex, countries: set[str], any_case: bool, regions: bool
) -> list[PlaceMention]:
    """Longest matches of the small-place or the region index within the given countries;
    where no spelling matches, a name of the same skeleton ('Sukhna' for 'As Sukhnah')."""
    exact = local.regions if regions else local.places
    alike = local.regions_like if regions else local.places_like
    found: list[PlaceMention] = []
    i = 0
    while i < len(tokens):
        match = None
        if any_case or tokens[i].capitalised:
            if local.starts(tokens[i].norm):
                match = _longest_in(tokens, i, exact, local.longest, countries)
            if match is None:
                match = _longest_in(tokens, i, alike, 3, countries, key=_skeleton)
        if match is None:
            i += 1
            continue
        found.append(match)
        i = match.last + 1
    return found


def _longest_in(
    tokens: list[Token],
    i: int,
    lookup: Callable[[str, set[str]], list[Entry]],
    longest: int,
    countries: set[str],
    key: Callable[[str], str] = local_key,
) -> PlaceMention | None:
    fuzzy = key is _skeleton
    for size in range(min(longest, len(tokens) - i), 0, -1):
        window = tokens[i : i + size]
        if any(t.sentence != window[0].sentence for t in window):
            continue
        if fuzzy and any(not (t.capitalised or t.text.isupper()) for t in window):
            continue
        name = key(" ".join(t.norm for t in window))
        entries = lookup(name, countries)
        if entries:
            return PlaceMention(tuple(entries), i, i + size - 1, window[0].sentence, fuzzy)
    return None


def _skeleton(name: str) -> str:
    return skeleton(local_key(name))


def _typed(
    text: str, tokens: list[Token], mentions: list[PlaceMention], gaz: Gazetteer, region: bool
) -> list[PlaceMention]:
    """Drop the readings a neighbouring word rules out: 'Kandahar province' and 'district of
    Charkh' are no towns, 'Tarin Kot city' and 'village of Salba' no districts."""
    kept = []
    for mention in mentions:
        words = _neighbours(text, tokens, mention)
        heading = text[tokens[mention.last].end :].lstrip().startswith(":")  # 'Aleppo: Afrin'
        as_region = bool(words & gaz.admin_words) or heading
        as_place = bool(words & gaz.place_words)
        if (as_region and not region) or (as_place and region):
            continue
        kept.append(mention)
    return kept


def _neighbours(text: str, tokens: list[Token], mention: PlaceMention) -> set[str]:
    """The word right after a name and the one before it (or before its 'of'), when no
    punctuation stands between: in 'Al-Deir village, Al Minya governorate' the village is
    Al-Deir's, not Al Minya's."""
    words = set()
    after = mention.last + 1
    if after < len(tokens) and not text[tokens[mention.last].end : tokens[after].start].strip():
        words.add(tokens[after].norm)
    before = mention.first - 1
    if before >= 0 and tokens[before].norm == "of":
        before -= 1
    if before >= 0 and not text[tokens[before].end : tokens[before + 1].start].strip():
        words.add(tokens[before].norm)
    return words


def _inside(
    entries: tuple[Entry, ...],
    admin1: set[tuple[str, str | None]],
    admin2: set[str],
    *,
    strict: bool = False,
    alone: bool = False,
) -> Entry | None:
    """The largest of the homonyms inside the finest region the text names; none when the
    text names first-level regions and no homonym lies in one (the place meant is missing
    from the gazetteer, and a namesake elsewhere would be far off)."""
    tiers = (
        [e for e in entries if e.admin2 is not None and e.admin2 in admin2],
        # a place the text names alone first is taken in its first-level region even when
        # not in the district named ('Dalbandin, Nushki district': the tables disagree)
        []
        if admin2 and not alone
        else [e for e in entries if (e.place.country, e.place.admin1) in admin1],
        [] if admin1 or admin2 or (strict and len(entries) > 1) else list(entries),
    )
    for tier in tiers:
        if tier:
            return max(tier, key=lambda e: e.population)
    return None


def _finest_region(
    regions: list[PlaceMention], admin1: set[tuple[str, str | None]]
) -> Entry | None:
    """The first second-level region (inside a named first-level one when there are several
    of its name), else the first first-level region; regions named with their kind
    ('Nad Ali district') come first."""
    for level in ("admin2", "admin1"):
        for mention in regions:
            entries = [e for e in mention.entries if e.place.precision == level]
            inside = [e for e in entries if (e.place.country, e.place.admin1) in admin1]
            if inside or (entries and not admin1):
                return max(inside or entries, key=lambda e: e.population)
    return None


def _country_of(mentions: list[PlaceMention], named: set[str], gaz: Gazetteer) -> Entry | None:
    for mention in mentions:
        for entry in mention.entries:
            if entry.is_country:
                return entry
    return gaz.country(min(named))


def elsewhere(tokens: list[Token], gaz: Gazetteer) -> frozenset[int]:
    """Positions of country names and adjectives that say where someone comes from or what
    lies beyond a border, not where the event was: 'a Somali man', 'tourists from Sweden',
    'near the border with Mali', 'the Syrian border'."""
    found = set()
    for i, token in enumerate(tokens):
        norm = token.norm
        if norm in gaz.demonyms:
            following = _word(tokens, i, 1)
            if following in gaz.person_words or following == "border":
                found.add(i)
        elif norm in ("with", "from") and _word(tokens, i, 1):
            before = _word(tokens, i, -1)
            if before in (gaz.person_words if norm == "from" else ("border", "borders")):
                found.add(i + 1)
    return frozenset(found)


def _word(tokens: list[Token], i: int, offset: int) -> str:
    """The folded word ``offset`` tokens away in the same sentence, or ''."""
    j = i + offset
    if 0 <= j < len(tokens) and tokens[j].sentence == tokens[i].sentence:
        return tokens[j].norm
    return ""


_CUES_BEFORE = frozenset({"in", "at", "near", "outside", "around"})


def region_named(tokens: list[Token], gaz: Gazetteer, code: str) -> bool:
    """Whether the text names a region of country ``code`` ('Far North', 'Borno'), not just
    its adjective."""
    for i, token in enumerate(tokens):
        pair = f"{token.norm} {tokens[i + 1].norm}" if i + 1 < len(tokens) else ""
        for key in (pair, token.norm):
            if gaz.hints.get(key) == code and key not in gaz.demonyms:
                return True
    return False


def find_cued(
    tokens: list[Token], core: set[int], gaz: Gazetteer, *, country: str | None = None
) -> tuple[Entry, PlaceMention] | None:
    """When the text names no known city or country: a smaller place or a region of any
    country (of ``country`` when given), but only where the words say a place is meant ('in
    Lashkargah', 'the town of Hilongos', 'Hillah city', 'Balkh Province'); the most
    populous of its namesakes."""
    local = gaz.local
    everywhere = {country} if country else local.countries
    found: list[PlaceMention] = []
    for i, token in enumerate(tokens):
        if not token.capitalised or not local.starts(token.norm):
            continue
        for regions in (True, False):
            lookup = local.regions if regions else local.places
            match = _longest_in(tokens, i, lookup, local.longest, everywhere)
            if match is not None and _cued(tokens, match, gaz, regions):
                found.append(match)
                break
    if not found:
        return None
    best = next((m for m in found if m.sentence in core), found[0])
    return max(best.entries, key=lambda e: e.population), best


def _cued(tokens: list[Token], mention: PlaceMention, gaz: Gazetteer, region: bool) -> bool:
    after = mention.last + 1
    word_after = (
        tokens[after].norm
        if after < len(tokens) and tokens[after].start - tokens[mention.last].end == 1
        else ""
    )
    if region:
        return word_after in gaz.admin_words
    before = mention.first - 1
    if before < 0 or tokens[mention.first].start - tokens[before].end != 1:
        return word_after in gaz.place_words
    if tokens[before].norm == "of":
        return before > 0 and tokens[before - 1].norm in gaz.place_words
    return tokens[before].norm in _CUES_BEFORE or word_after in gaz.place_words


def group_hints(groups: list[tuple[str, int, int]], gaz: Gazetteer) -> list[tuple[str, int]]:
    """(country code, -1) for armed groups that act in one country ('al-Shabaab'): a weak
    hint, outweighed by any place or country adjective."""
    return [(gaz.group_homes[name], -1) for name, _, _ in groups if name in gaz.group_homes]


def find_capitals(
    tokens: list[Token], gaz: Gazetteer, *, any_case: bool, skip: frozenset[int] = frozenset()
) -> list[PlaceMention]:
    """'the Afghan capital', 'Syria's capital', 'the capital of Somalia': the capital city."""
    found = []
    for i, token in enumerate(tokens):
        if token.norm != "capital" or i in skip:
            continue
        code = _country_word(tokens, i - 1, gaz, any_case)
        first = i - 1
        if code is None and _word(tokens, i, 1) == "of":
            code = _country_word(tokens, i + 2, gaz, any_case)
            first = i
        entry = gaz.capitals.get(code) if code else None
        if entry is not None:
            last = max(first, i)
            found.append(PlaceMention((entry,), min(first, i), last, token.sentence))
    return found


def _country_word(tokens: list[Token], i: int, gaz: Gazetteer, any_case: bool) -> str | None:
    """The country a word names or qualifies ('Afghan', 'Somalia'), if any."""
    if i < 0 or i >= len(tokens) or not (any_case or tokens[i].capitalised):
        return None
    norm = tokens[i].norm
    if norm in gaz.demonyms:
        return gaz.demonyms[norm]
    countries = [e for e in gaz.names.get(norm, ()) if e.is_country]
    return countries[0].place.country if countries else None
