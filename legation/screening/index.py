"""In-memory candidate retrieval: name-part keys -> names, so a query scores few candidates."""

from __future__ import annotations

import gc
import heapq
import math
import os
import pickle
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from legation.screening.matcher import (
    ALGORITHM,
    DEFAULT_THRESHOLD,
    Name,
    Result,
    Subject,
    score_pair,
)
from legation.screening.normalise import Part, phonetic, skeleton

MAX_CANDIDATES = 20
SNAPSHOT_VERSION = f"{ALGORITHM}/5"  # 2: fingerprints keyed by (list, entity id); 3: name
# keys; 4: a key posts an entry once; 5: every name of a candidate sharing a key is scored
COMMON_KEY = 500
KEEP_SHARE = 0.4  # candidates sharing less than this share of the best key weight are not scored
_ID_PROPS = ("passportNumber", "idNumber", "registrationNumber", "taxNumber", "imoNumber")
_COUNTRY_PROPS = ("nationality", "citizenship", "country", "jurisdiction")


def subject_from_ftm(data: Mapping[str, Any], dataset: str = "") -> Subject:
    """A ``Subject`` straight from an FtM entity dict (no proxy: fast at start-up)."""
    props: Mapping[str, list[str]] = data.get("properties") or {}
    schema = str(data.get("schema") or "LegalEntity")
    names = [*props.get("name", []), *props.get("alias", []), *props.get("previousName", [])]
    return Subject.build(
        str(data["id"]),
        schema,
        names,
        weak_names=props.get("weakAlias", []),
        birth_dates=props.get("birthDate", []),
        countries=[c for p in _COUNTRY_PROPS for c in props.get(p, [])],
        identifiers=[i for p in _ID_PROPS for i in props.get(p, [])],
        caption=(props.get("name") or [str(data["id"])])[0],
        dataset=dataset,
    )


def _initials(query: Subject) -> frozenset[str]:
    """The letters the query gives only as initials ("Q. S. H. al-Tikriti")."""
    return frozenset(p.latin[0] for n in query.names for p in n.parts if p.initial)


def name_keys_of(name: Name) -> set[str]:
    """Retrieval keys of one name: its parts' and its pairs' (see ``part_keys``)."""
    keys: set[str] = set()
    for _positions, part in name.units:
        keys |= part_keys(part)
    return keys | acronym_keys(name)


def acronym_keys(name: Name) -> set[str]:
    """A name of initials only ("T.D.G.", "G-9") is keyed by its letters together."""
    if len(name.parts) >= 2 and all(p.initial for p in name.parts):
        return {"a:" + "".join(p.latin for p in name.parts)}
    return set()


def part_keys(part: Part) -> set[str]:
    """Retrieval keys of one part: its skeleton, its phonetic form and their prefixes."""
    if part.initial:
        return set()
    keys = {"p:" + part.phonetic}
    for reading in part.second.split():  # a Korean syllable's other readings
        keys.add("p:" + phonetic(reading))
        keys.add("s:" + (skeleton(reading) or reading))
    for key in (part.skeleton, part.variant):
        if len(key) >= 2:
            keys.add("s:" + key)
            keys.add("s3:" + key[:3])
    if part.concept:  # a translated generic word ("جبهة" for "Front") still retrieves
        keys.add("c:" + part.concept)
    return keys


@dataclass
class Hit:
    subject: Subject
    result: Result

    @property
    def score(self) -> float:
        return self.result.score


class ScreeningIndex:
    """All listed subjects with an inverted index from part keys to (subject, name)."""

    def __init__(self, subjects: Iterable[Subject] = ()) -> None:
        self.subjects: list[Subject] = []
        # key -> the subjects with a name that has it (once per subject)
        self.postings: dict[str, list[int]] = defaultdict(list)
        self.identifiers: dict[str, list[int]] = defaultdict(list)
        # per subject: each name's retrieval keys (the strings of ``postings``, shared), and
        # the fewest parts of any of its names (ties at the candidates' cut)
        self.name_keys: list[tuple[frozenset[str], ...]] = []
        self.fewest_parts: list[int] = []
        for subject in subjects:
            self.add(subject)

    def save(self, path: Path, extra: object = None) -> None:
        """Write a snapshot (with ``extra``) atomically; only Legation itself writes these."""
        fd, name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump((SNAPSHOT_VERSION, self, extra), handle, protocol=5)
            os.replace(name, path)  # two writers each rename a whole file: no mixed bytes
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise

    @staticmethod
    def load(path: Path) -> tuple[ScreeningIndex, object] | None:
        """A snapshot written by ``save`` (None if it is from another format version)."""
        enabled = gc.isenabled()
        gc.disable()  # a million small objects: collections during loading triple the time
        try:
            with path.open("rb") as handle:
                loaded = pickle.load(handle)
        finally:
            if enabled:
                gc.enable()
        if not isinstance(loaded, tuple) or len(loaded) != 3:
            return None
        version, index, extra = loaded
        if version != SNAPSHOT_VERSION or not isinstance(index, ScreeningIndex):
            return None
        index.freeze()
        return index, extra

    def freeze(self) -> None:
        """Keep the garbage collector from walking the index (its pauses made p99 4x worse)."""
        gc.collect()
        gc.freeze()

    def __len__(self) -> int:
        return len(self.subjects)

    def add(self, subject: Subject) -> None:
        s = len(self.subjects)
        self.subjects.append(subject)
        name_keys = tuple(
            frozenset(sys.intern(key) for key in name_keys_of(name)) for name in subject.names
        )
        self.name_keys.append(name_keys)
        # once per entry, however many of its names have the key: an entry with sixty aliases
        # must not outweigh the one whose single name is the query
        for key in frozenset().union(*name_keys):
            self.postings[key].append(s)
        self.fewest_parts.append(min((len(n.parts) for n in subject.names), default=0))
        for identifier in subject.identifiers:
            self.identifiers[identifier].append(s)

    def candidates(self, query: Subject, limit: int = MAX_CANDIDATES) -> dict[int, list[int]]:
        """Entries ranked by the weight of the keys they share with the query, best first,
        each with its names that share a key (all its names when it shares an identifier)."""
        total = max(1, len(self.subjects))
        keys: set[str] = set()
        for name in query.names:
            keys |= name_keys_of(name)
        ranked = sorted((len(self.postings.get(k, ())), k) for k in keys)
        weights: dict[int, float] = defaultdict(float)
        for size, key in ranked:
            if size == 0:
                continue
            idf = math.log(1 + total / size) * (0.5 if key.startswith(("s3:", "c:")) else 1.0)
            if size > COMMON_KEY and len(weights) >= limit:
                # a very common key only adds weight to candidates already found (and as
                # keys come rarest first, no later key can bring in a new candidate either)
                for s in self.postings[key]:
                    if s in weights:
                        weights[s] += idf
            else:
                for s in self.postings[key]:
                    weights[s] += idf
        best = heapq.nlargest(limit, weights.items(), key=itemgetter(1))
        if len(weights) > limit and best:
            best = self._break_ties(best, weights, limit, _initials(query))
        floor = best[0][1] * KEEP_SHARE if best else 0.0
        found: dict[int, list[int]] = {}
        for s, w in best:
            if w >= floor:
                found[s] = [n for n, nk in enumerate(self.name_keys[s]) if not nk.isdisjoint(keys)]
        for identifier in query.identifiers:
            for s in self.identifiers.get(identifier, ()):
                found[s] = list(range(len(self.subjects[s].names)))
        return found

    def _break_ties(
        self,
        best: list[tuple[int, float]],
        weights: dict[int, float],
        limit: int,
        initials: frozenset[str] = frozenset(),
    ) -> list[tuple[int, float]]:
        """Entries tied at the cut: those whose names have the query's initials, then those
        with the fewest name parts (the closest) go first.

        Without this an exact "Mohammed Ali Rahimi" could lose its place to earlier entries
        "Mohammed Ali Rahimi Khan…" that share the same query keys, and "Q. S. H. AL-TIKRITI"
        (initials give no keys) to the first twenty of the list's forty al-Tikritis.
        """
        edge = best[-1][1]
        tied = [kv for kv in weights.items() if kv[1] >= edge - 1e-9]
        if len(tied) <= limit:
            return best

        fewest = self.fewest_parts
        if initials:
            subjects = self.subjects
            tied.sort(
                key=lambda kv: (
                    -kv[1],
                    -max(
                        (
                            len(initials & {p.latin[0] for p in n.parts})
                            for n in subjects[kv[0]].names
                        ),
                        default=0,
                    ),
                    fewest[kv[0]],
                )
            )
        else:
            tied.sort(key=lambda kv: (-kv[1], fewest[kv[0]]))
        return tied[:limit]

    def search(
        self,
        query: Subject,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        limit: int = 10,
        candidates: int = MAX_CANDIDATES,
    ) -> list[Hit]:
        """Scored hits at or above ``threshold``, best first."""
        hits = []
        for s, names in self.candidates(query, candidates).items():
            subject = self.subjects[s]
            # every name of the entry that shares a key with the query (not only the likeliest
            # few): a close spelling of any name scores as `legation screen pairs` scores it
            result = score_pair(query, subject, names)
            if result.score >= threshold:
                hits.append(Hit(subject, result))
        hits.sort(key=lambda h: h.score, reverse=True)
        return hits[:limit]
