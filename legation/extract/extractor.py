"""The incident extractor: lexicon triggers, gazetteer places, dates, names, counts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from legation.domain.models import Evidence, Extraction, Place, Span
from legation.extract.counts import Count, CountReader
from legation.extract.dates import DateMention, find_dates
from legation.extract.gazetteer import Entry, Gazetteer, gazetteer
from legation.extract.language import detect_language
from legation.extract.lexicon import Hit, Lexicon, lexicon
from legation.extract.people import (
    NameChunk,
    find_groups,
    function_words,
    name_chunks,
    perpetrators,
    victims_after_titles,
    victims_near_harm,
)
from legation.extract.places import (
    PlaceMention,
    choose_place,
    elsewhere,
    find_capitals,
    find_cued,
    find_hints,
    find_places,
    find_towns,
    group_hints,
    region_named,
)
from legation.extract.places import (
    locate as locate_entry,
)
from legation.extract.roles import (
    Candidate,
    RoleModel,
    candidates,
    chosen,
    hit_key,
    longest,
    role_model,
)
from legation.extract.text import Token, fold, is_mostly_upper, tokenize, without_possessive

# When several types are triggered, the first in this order wins.
_TYPE_PRIORITY = (
    "hijacking",
    "hostage_taking",
    "kidnapping",
    "vehicle_ramming",
    "bombing",
    "assassination",
    "arson",
    "armed_assault",
    "unarmed_assault",
    "unrest",
    "threat",
)
# Kinds of event: triggers of one family vote together for the report's type ("murdered" and
# "attacked" against one "explosion"); within the winning family the priority above decides.
_FAMILIES = {
    "assassination": "assault",
    "armed_assault": "assault",
    "unarmed_assault": "assault",
    "hostage_taking": "abduction",
    "kidnapping": "abduction",
}
# A kind of event this often named is told of more than once ("bombs exploded at the embassy
# … another bomb destroyed …"): in MUC-4 dev, 29 % of reports with four triggers of their main
# kind have a second key template of it.
_SEVERAL = 4
_NO_VOTE = frozenset({"unrest", "threat"})  # chosen only when nothing else is triggered
_TYPE_WEAPON = {"bombing": "explosive", "arson": "incendiary", "vehicle_ramming": "vehicle"}
_PERSON_TITLES = ("diplomat", "government")
_DATELINE_TOKENS = 6  # a date this close to the start of a report, then "(AGENCY)" or "--",
_DATELINE_END = re.compile(r"[\s\d]*(\(|--|—|–)")  # is the report's dateline
_PERPETRATOR_WINDOW = 5  # "GUERRILLAS ... attacked": the doer this close before the act,
_FORCE_WINDOW = 4  # or for state forces ("the ARMY ... attacked") this close
_PHYSICAL_WINDOW = 8  # a building or vehicle this close to a word of attack or damage was hit
_COUNT_SENTENCES = 2  # casualty counts are read this many sentences around the event


@dataclass(slots=True)
class _Doc:
    """A report being read: text, tokens, lexicon hits by group."""

    text: str
    tokens: list[Token]
    lex: Lexicon
    hits: dict[str, list[Hit]]
    any_case: bool

    def span(self, first: int, last: int) -> Span:
        start, end = self.tokens[first].start, self.tokens[last].end
        return Span(start, end, self.text[start:end])

    def evidence(self, value: str, confidence: float, first: int, last: int) -> Evidence:
        return Evidence(value, round(confidence, 2), self.span(first, last))


def extract_report(
    text: str,
    *,
    language: str | None = None,
    published: datetime | date | None = None,
    gaz: Gazetteer | None = None,
) -> Extraction:
    """Read one report; ``published`` anchors relative dates ("on Monday")."""
    return read_report(text, language=language, published=published, gaz=gaz)[0]


def read_report(
    text: str,
    *,
    language: str | None = None,
    published: datetime | date | None = None,
    gaz: Gazetteer | None = None,
    roles: RoleModel | None = None,
) -> tuple[Extraction, list[Candidate]]:
    """The extraction and the role candidates it chose from (for training the role model);
    ``roles`` replaces the language's shipped role model."""
    lang = language or detect_language(text)
    doc = _read(text, lexicon(lang))
    day = published.date() if isinstance(published, datetime) else published
    core = {doc.tokens[h.first].sentence for h in doc.hits["type"]}
    is_incident, confidence = _decide(doc, core)
    result = Extraction(language=lang, is_incident=is_incident, confidence=confidence)
    if not is_incident:
        return result, []
    found = _fill(result, doc, core, day, gaz or gazetteer(), roles or role_model(lang))
    return result, found


def _read(text: str, lex: Lexicon) -> _Doc:
    tokens = tokenize(text)
    hits: dict[str, list[Hit]] = {
        g: []
        for g in (
            "type",
            "weapon",
            "target",
            "killed",
            "injured",
            "perpetrator_cue",
            "attack_verb",
            "claim",
            "weapon_noun",
            "perpetrator_noun",
            "victim_noun",
            "physical_noun",
            "force_noun",
            "damage",
            "vague",
        )
    }
    seen: set[tuple[str, str, int]] = set()
    for hit in _drop_contained(lex.matcher.find(tokens)):
        key = (hit.group, hit.label, hit.first)
        if key not in seen:
            seen.add(key)
            hits[hit.group].append(hit)
    return _Doc(text, tokens, lex, hits, is_mostly_upper(text))


def _drop_contained(hits: list[Hit]) -> list[Hit]:
    """A type hit inside a longer type hit of another label ("bomb" in "bomb threat") goes."""
    typed = [h for h in hits if h.group == "type"]
    keep = []
    for hit in hits:
        inside = hit.group == "type" and any(
            o.label != hit.label
            and o.first <= hit.first
            and hit.last <= o.last
            and (o.last - o.first) > (hit.last - hit.first)
            for o in typed
        )
        if not inside:
            keep.append(hit)
    return keep


def _decide(doc: _Doc, core: set[int]) -> tuple[bool, float]:
    """An incident needs an event trigger backed by a weapon, casualties or a second trigger."""
    triggers = len(doc.hits["type"])
    if triggers == 0:
        return False, 0.9
    support = sum(
        1
        for group in ("weapon", "killed", "injured", "victim_noun")
        for h in doc.hits[group]
        if doc.tokens[h.first].sentence in core
    )
    score = min(1.0, 0.3 * triggers + 0.2 * support)
    if doc.any_case and triggers == 1 and support == 0:
        # Wire copy names its event once and plainly ("A BOMB EXPLODED AT ..."): in MUC-4 dev
        # 31 of 77 such reports have a key template of the trigger's kind.
        return True, 0.4
    return (triggers >= 2 or support >= 1), round(max(score, 0.5), 2)


def _fill(
    result: Extraction,
    doc: _Doc,
    core: set[int],
    day: date | None,
    gaz: Gazetteer,
    model: RoleModel | None,
) -> list[Candidate]:
    mentions = find_places(doc.tokens, gaz, any_case=doc.any_case)
    place_tokens = {i for m in mentions for i in range(m.first, m.last + 1)}
    found_groups = find_groups(doc.tokens)
    group_tokens = {i for _, first, last in found_groups for i in range(first, last + 1)}
    chunks = [
        c
        for c in name_chunks(
            doc.tokens, doc.lex, any_case=doc.any_case, places=place_tokens, text=doc.text
        )
        if c.first not in group_tokens and c.last not in group_tokens
    ]
    title_hits = [
        h
        for h in doc.hits["target"]
        if h.label in _PERSON_TITLES and doc.tokens[h.first].sentence in core
    ]
    victims = victims_after_titles(doc.tokens, title_hits, chunks)
    harm = [
        h
        for g in ("type", "killed", "injured")
        for h in doc.hits[g]
        if doc.tokens[h.first].sentence in core and h.label != "threat"
    ]
    titled = {v for v, _ in victims}
    culprits = perpetrators(
        doc.tokens, doc.hits["perpetrator_cue"], doc.hits["attack_verb"], chunks
    )
    # "the German embassy, killing …": a nationality before the thing it qualifies is no culprit
    qualified = {h.first for g in ("target", "physical_noun") for h in doc.hits[g]}
    culprits = [
        c
        for c in culprits
        if c not in titled
        and not (fold(c.text(doc.tokens, doc.text)) in gaz.demonyms and c.last + 1 in qualified)
    ]
    hurt = [
        c
        for c in victims_near_harm(doc.tokens, harm, chunks, doc.lex, doc.text)
        if c not in titled and c not in culprits
    ]
    dates = find_dates(doc.tokens, doc.lex, day)
    date_tokens = {i for d in dates for i in range(d.first, d.last + 1)}

    near_culprit = {i for c in culprits for i in range(max(0, c.first - 4), c.last + 1)}
    claimed = {s + d for s in core for d in range(-3, 4)} | {
        doc.tokens[h.first].sentence for h in doc.hits["claim"]
    }
    named = {  # every name and group may fill a role; the rules' choices
        "victim_name": ([_as_hit("victim_name", c) for c in chunks], titled | set(hurt)),
        "perpetrator_name": ([_as_hit("perpetrator_name", c) for c in chunks], set(culprits)),
    }
    group_hits = [Hit("group_name", name, first, last) for name, first, last in found_groups]
    ruled_groups = [h for h in group_hits if doc.tokens[h.first].sentence in claimed]
    ruled = {
        group: [h for h in hits if NameChunk(h.first, h.last) in picked]
        for group, (hits, picked) in named.items()
    }
    ruled["group_name"] = ruled_groups
    candidate_hits = {"group_name": group_hits} | {g: hits for g, (hits, _) in named.items()}
    described, found = _descriptions(doc, core, near_culprit, model, candidate_hits, ruled)
    result.type = _incident_type(doc, core, victims, result.also)
    result.weapon = _weapon(doc, core, result.type.value)
    result.weapon_mentions = described["weapon_noun"]
    _set_date(result, doc, dates, core, day)
    foreign = elsewhere(doc.tokens, gaz)
    if not doc.any_case:  # 'Islamic State of Iraq', 'Hamas': a group's name is no place
        foreign |= group_tokens
    hints = find_hints(doc.tokens, gaz, any_case=doc.any_case, skip=foreign)
    hints += group_hints(found_groups, gaz)
    located = [m for m in mentions if m.first not in foreign]
    located += find_capitals(doc.tokens, gaz, any_case=doc.any_case, skip=foreign)
    chosen = _with_town(
        choose_place(located, core, hints, gaz, any_case=doc.any_case),
        doc.tokens,
        core,
        gaz,
        any_case=doc.any_case,
    )
    if chosen is not None:
        entry, mention = chosen
        result.place = entry.place
        if mention is None:
            result.place_evidence = Evidence(entry.place.name, 0.3, None)
        else:
            confidence = 0.8 if mention.sentence in core else 0.5
            result.place_evidence = doc.evidence(
                entry.place.name, confidence, mention.first, mention.last
            )
    result.human_targets = described["victim_name"] + described["victim_noun"]
    result.perpetrator_individuals = described["perpetrator_name"] + described["perpetrator_noun"]
    result.perpetrator_organizations = described["group_name"] + described["force_noun"]
    nearby = {s + d for s in core for d in range(-_COUNT_SENTENCES, _COUNT_SENTENCES + 1)}
    result.killed = _count(doc, "killed", nearby, date_tokens, default=1 if victims else 0)
    result.injured = _count(doc, "injured", nearby, date_tokens, default=0)
    _set_targets(result, doc, core, victims, culprits)
    result.physical_targets = described["physical_noun"]
    result.target_states = _target_states(doc, title_hits, mentions, gaz)
    return found


_CONFIDENCE = {"weapon_noun": 0.6, "perpetrator_name": 0.6, "group_name": 0.7}


def _as_hit(group: str, chunk: NameChunk) -> Hit:
    return Hit(group, "name", chunk.first, chunk.last)


def _descriptions(
    doc: _Doc,
    core: set[int],
    near_culprit: set[int],
    model: RoleModel | None,
    named: dict[str, list[Hit]],
    ruled: dict[str, list[Hit]],
) -> tuple[dict[str, list[Evidence]], list[Candidate]]:
    """Names, groups and descriptions filling each role: the hand rules' choice (``ruled``
    holds those for names and groups), or the role model's, which weighs that choice with the
    phrase's context. Also the candidates, for training."""
    ruled = ruled | {
        "weapon_noun": [h for h in doc.hits["weapon_noun"] if doc.tokens[h.first].sentence in core],
        "perpetrator_noun": _doers(doc, core, "perpetrator_noun", _PERPETRATOR_WINDOW),
        "force_noun": _doers(doc, core, "force_noun", _FORCE_WINDOW),
        "victim_noun": _victim_descriptions(doc, core, near_culprit),
        "physical_noun": _physical_targets(doc, core),
    }
    found: list[Candidate] = []
    if model is not None and doc.any_case:  # the model learned from all-caps wire copy
        chosen_hits = {h for v in ruled.values() for h in v}
        common = function_words(doc.lex.language)
        found = candidates(doc.text, doc.tokens, doc.hits | named, core, chosen_hits, common)
        ruled = chosen(model, found)
    described = {
        group: _mentions(doc, hits, _CONFIDENCE.get(group, 0.5)) for group, hits in ruled.items()
    }
    return described, found


def _incident_type(
    doc: _Doc, core: set[int], victims: list[tuple[NameChunk, Hit]], also: list[Evidence]
) -> Evidence:
    """The main kind of event; other kinds the report describes go to ``also``."""
    by_label: dict[str, list[Hit]] = {}
    for hit in doc.hits["type"]:
        by_label.setdefault(hit.label, []).append(hit)
    prominent = any(title.label in _PERSON_TITLES for _, title in victims)
    violent = {"armed_assault", "assassination"} & set(by_label)
    if prominent and violent and not ({"bombing", "kidnapping", "hostage_taking"} & set(by_label)):
        hit = (by_label.get("assassination") or by_label["armed_assault"])[0]
        return doc.evidence("assassination", 0.75, hit.first, hit.last)
    if "threat" in by_label and not doc.hits["killed"] and not doc.hits["injured"]:
        hit = by_label["threat"][0]
        return doc.evidence("threat", 0.5, hit.first, hit.last)
    vague = {(h.first, h.last) for h in doc.hits["vague"]}
    votes: dict[str, int] = {}
    for label, found in by_label.items():
        if label not in _NO_VOTE:
            family = _FAMILIES.get(label, label)
            voting = sum(1 for h in found if (h.first, h.last) not in vague)
            votes[family] = votes.get(family, 0) + voting
    order = {name: rank for rank, name in enumerate(_TYPE_PRIORITY)}

    def rank(name: str) -> tuple[int, int]:
        return -votes.get(_FAMILIES.get(name, name), 0), order[name]

    ranked = sorted((name for name in by_label if name in order), key=rank)
    if ranked:
        best = ranked[0]
        others = {_FAMILIES.get(best, best)}
        for name in ranked[1:]:
            family = _FAMILIES.get(name, name)
            if family not in others and votes.get(family, 0) > 0:
                others.add(family)
                first = by_label[name][0]
                also.append(doc.evidence(name, 0.4, first.first, first.last))
        hit = by_label[best][0]
        if votes.get(_FAMILIES.get(best, best), 0) >= _SEVERAL:  # another event of the kind
            second = by_label[best][1] if len(by_label[best]) > 1 else hit
            also.append(doc.evidence(best, 0.3, second.first, second.last))
        confidence = min(0.9, 0.5 + 0.1 * len(by_label[best]))
        return doc.evidence(best, confidence, hit.first, hit.last)
    hit = doc.hits["type"][0]
    return doc.evidence("other", 0.3, hit.first, hit.last)


def _weapon(doc: _Doc, core: set[int], incident_type: str) -> Evidence | None:
    hits = [h for h in doc.hits["weapon"] if doc.tokens[h.first].sentence in core]
    wanted = _TYPE_WEAPON.get(incident_type)
    if wanted is not None:
        chosen = [h for h in hits if h.label == wanted]
        if chosen:
            return doc.evidence(wanted, 0.8, chosen[0].first, chosen[0].last)
    counts: dict[str, list[Hit]] = {}
    for hit in hits:
        if hit.label != "vehicle":
            counts.setdefault(hit.label, []).append(hit)
    if not counts:
        return None
    label, found = max(counts.items(), key=lambda item: len(item[1]))
    return doc.evidence(label, min(0.9, 0.5 + 0.1 * len(found)), found[0].first, found[0].last)


def _mentions(doc: _Doc, hits: list[Hit], confidence: float) -> list[Evidence]:
    """Each thing once, as first written: "bombs" after "bomb" is the same weapon."""
    found: dict[str, Evidence] = {}
    for hit in longest(hits):
        text = without_possessive(doc.span(hit.first, hit.last).text)
        key = hit_key(doc.tokens, hit)
        found.setdefault(key, doc.evidence(text, confidence, hit.first, hit.last))
    return list(found.values())


def _doers(doc: _Doc, core: set[int], group: str, window: int) -> list[Hit]:
    """Descriptions of ``group`` that did it: 'GUERRILLAS attacked …' (an attack verb at most
    ``window`` words after), '… kidnapped by TERRORISTS' ("by" just before)."""
    verbs = [h.first for h in doc.hits["attack_verb"]]
    picked = []
    for hit in doc.hits[group]:
        sentence = doc.tokens[hit.first].sentence
        if sentence not in core:
            continue
        acts = any(
            hit.last < v <= hit.last + window and doc.tokens[v].sentence == sentence for v in verbs
        )
        agent = any(doc.tokens[i].norm == "by" for i in range(max(0, hit.first - 2), hit.first))
        if acts or agent:
            picked.append(hit)
    return picked


def _victim_descriptions(doc: _Doc, core: set[int], excluded: set[int]) -> list[Hit]:
    """'… killed three PEASANTS': the people hurt, when no name is given."""
    harm = [h.first for g in ("killed", "injured", "type") for h in doc.hits[g]]
    perpetrators = {i for h in doc.hits["perpetrator_noun"] for i in range(h.first, h.last + 1)}
    picked = []
    for hit in doc.hits["victim_noun"]:
        sentence = doc.tokens[hit.first].sentence
        if sentence not in core or hit.last in excluded or hit.first in perpetrators:
            continue
        if any(abs(h - hit.first) <= 6 and doc.tokens[h].sentence == sentence for h in harm):
            picked.append(hit)
    return picked


def _set_date(
    result: Extraction, doc: _Doc, dates: list[DateMention], core: set[int], day: date | None
) -> None:
    # The dateline's date ("SAN SALVADOR, 27 OCT 89 --") is when the story was filed: the
    # fallback, not evidence of when the event happened.
    usable = [d for d in dates if (day is None or d.value <= day) and not _is_dateline(doc, d)]

    def rank(mention: DateMention) -> tuple[int, int, int]:
        return (mention.sentence in core, mention.explicit, -mention.first)

    if usable:
        best = max(usable, key=rank)
        result.date = best.value
        confidence = 0.9 if best.sentence in core else 0.6
        result.date_evidence = doc.evidence(
            best.value.isoformat(), confidence, best.first, best.last
        )
    elif day is not None:
        result.date = day
        result.date_evidence = Evidence(day.isoformat(), 0.4, None)


def _is_dateline(doc: _Doc, mention: DateMention) -> bool:
    if mention.first > _DATELINE_TOKENS:
        return False
    after = doc.text[doc.tokens[mention.last].end : doc.tokens[mention.last].end + 12]
    return bool(_DATELINE_END.match(after))


def _count(
    doc: _Doc,
    group: str,
    core: set[int],
    skip: set[int],
    *,
    default: int,
    everywhere: bool = False,
) -> Evidence | None:
    """The largest count any casualty word of ``group`` in ``core`` sentences gives (victims
    before attackers); failing that, one from anywhere in the report."""
    casualty = {
        i for g in ("killed", "injured") for h in doc.hits[g] for i in range(h.first, h.last + 1)
    }
    reader = CountReader(doc.tokens, doc.text, doc.lex, casualty, skip)
    best: tuple[Count, Evidence] | None = None  # counts of victims before those of attackers
    hits = doc.hits[group]
    for hit in hits:
        if doc.tokens[hit.first].sentence not in core or _inside_another(hit, hits):
            continue  # 'death' of 'stabbed to death' is read with the longer words
        found = reader.count(hit)
        if found is not None and (best is None or _rank(found) > _rank(best[0])):
            first, last = min(found.position, hit.first), max(found.position, hit.last)
            best = found, doc.evidence(str(found.value), 0.7, first, last)
    if best is None and not everywhere:  # 'At least 30 people died …' far from the trigger
        return _count(
            doc,
            group,
            set(range(doc.tokens[-1].sentence + 1)),
            skip,
            default=default,
            everywhere=True,
        )
    if best is not None:
        return best[1]
    if default and doc.hits[group]:
        hit = doc.hits[group][0]
        return doc.evidence(str(default), 0.4, hit.first, hit.last)
    return None


def _rank(count: Count) -> tuple[bool, int]:
    return not count.attackers, count.value


def _inside_another(hit: Hit, hits: list[Hit]) -> bool:
    return any(
        o.first <= hit.first and hit.last <= o.last and o.last - o.first > hit.last - hit.first
        for o in hits
    )


def _set_targets(
    result: Extraction,
    doc: _Doc,
    core: set[int],
    victims: list[tuple[NameChunk, Hit]],
    culprits: list[NameChunk],
) -> None:
    near_culprit = {i for c in culprits for i in range(max(0, c.first - 4), c.last + 1)}
    categories: dict[str, Evidence] = {}
    for hit in doc.hits["target"]:
        if doc.tokens[hit.first].sentence not in core or hit.last in near_culprit:
            continue
        if hit.label not in categories:
            categories[hit.label] = doc.evidence(hit.label, 0.6, hit.first, hit.last)
    for _, title in victims:
        categories[title.label] = doc.evidence(title.label, 0.8, title.first, title.last)
    result.target_categories = list(categories.values())


def _physical_targets(doc: _Doc, core: set[int]) -> list[Hit]:
    """Buildings, vehicles and installations a few words from a word of attack or damage."""
    harm = [h.first for g in ("type", "damage", "weapon") for h in doc.hits[g]]
    weapons = {i for h in doc.hits["weapon_noun"] for i in range(h.first, h.last + 1)}
    picked = []
    for hit in doc.hits["physical_noun"]:
        sentence = doc.tokens[hit.first].sentence
        if sentence not in core or hit.first in weapons:  # the truck of a "truck bomb"
            continue
        if any(
            abs(h - hit.first) <= _PHYSICAL_WINDOW and doc.tokens[h].sentence == sentence
            for h in harm
        ):
            picked.append(hit)
    return picked


def _target_states(
    doc: _Doc,
    title_hits: list[Hit],
    mentions: list[PlaceMention],
    gaz: Gazetteer,
) -> list[str]:
    """Which state's diplomats were targeted: a country name or adjective next to the title."""
    states: list[str] = []
    for hit in (h for h in title_hits if h.label == "diplomat"):
        candidates: list[tuple[int, str]] = []
        sentence = doc.tokens[hit.first].sentence
        for i in range(max(0, hit.first - 4), min(len(doc.tokens), hit.last + 5)):
            token = doc.tokens[i]
            if token.sentence != sentence:
                continue
            code = gaz.demonyms.get(token.norm) or _country_at(mentions, i)
            if code:
                candidates.append((abs(i - hit.first), code))
        if candidates:
            code = min(candidates)[1]
            if code not in states:
                states.append(code)
    return states


def _country_at(mentions: list[PlaceMention], index: int) -> str | None:
    for mention in mentions:
        if mention.first <= index <= mention.last:
            countries = [e for e in mention.entries if e.is_country]
            return countries[0].place.country if countries else None
    return None


def locate(text: str, *, gaz: Gazetteer | None = None) -> Place | None:
    """The place a location text names (see ``places.locate``)."""
    entry = locate_entry(text, gaz or gazetteer())
    return entry.place if entry else None


def _with_town(
    chosen: tuple[Entry, PlaceMention | None] | None,
    tokens: list[Token],
    core: set[int],
    gaz: Gazetteer,
    *,
    any_case: bool,
) -> tuple[Entry, PlaceMention | None] | None:
    """When only a country was found, a small town of that country named in the text; when
    nothing was, a place the words point at ('in Lashkargah', 'Balkh Province')."""
    if chosen is None:
        return None if any_case else find_cued(tokens, core, gaz)
    if chosen[1] is None and not any_case:
        # a country only hinted at: a place the words point at in it ('Far North Region …
        # in Bodo'); anywhere, when only an adjective hinted ('the Turkish government … in
        # Afrin')
        code = chosen[0].place.country
        cued = find_cued(tokens, core, gaz, country=code)
        if cued is None and not region_named(tokens, gaz, code):
            cued = find_cued(tokens, core, gaz)
        return cued or chosen
    if not chosen[0].is_country:
        return chosen
    towns = find_towns(tokens, gaz, country=chosen[0].place.country, any_case=any_case)
    if not towns:
        return chosen
    best = next((t for t in towns if t.sentence in core), towns[0])
    return max(best.entries, key=lambda e: e.population), best
