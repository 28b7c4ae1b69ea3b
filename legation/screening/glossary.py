"""Translation equivalents for the generic words of organisation names.

An organisation's name in its original script is often a translation of the listed Latin
name, not a transliteration: "جبهة النصرة" is "AL-NUSRAH FRONT", "شبکه حقانی" is "HAQQANI
NETWORK". No spelling rule relates جبهة and FRONT, so the designators of organisations
(group, front, movement, army, network, company, office, exchange…) and the region names
and adjectives that recur in them get a shared *concept* here, in Arabic (with Persian and
Urdu spellings) and in English and French. Two parts with the same concept count as a
translation of each other. The proper name itself (al-Nusrah, Haqqani) still has to match
by spelling, so a translation that shares only these words scores low. The list is short
and closed on purpose: a name translated word by word beyond it is not matched.
"""

from __future__ import annotations

import re

# concept: (Arabic-script stems, Latin words); stems without article, prefix or ending
_CONCEPTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "group": (("جماعه", "جماعت", "مجموعه", "گروپ", "گروه"), ("group", "groupe", "groups")),
    "front": (("جبهه",), ("front",)),
    "movement": (("حركه", "حرکت", "تحریک", "تحريك"), ("movement", "mouvement")),
    "organisation": (("تنظيم", "تنظیم", "منظمه"), ("organization", "organisation")),
    "army": (("جيش", "جیش", "لشكر", "لشکر"), ("army", "armee")),
    "brigade": (("لواء", "كتيبه", "کتیبه", "كتائب"), ("brigade", "brigades", "battalion")),
    "network": (("شبكه", "شبکه"), ("network", "reseau")),
    "company": (("شركه", "شرکت", "کمپنی", "كمپنی"), ("company", "compagnie", "co", "corporation")),
    "office": (("مكتب", "دفتر"), ("office", "bureau")),
    "exchange": (("صرافه", "صرافی", "صرافي"), ("exchange", "change")),
    "society": (("جمعيه", "جمعیت", "انجمن"), ("society", "association", "societe")),
    "foundation": (("مؤسسه", "موسسه", "بنياد", "بنیاد"), ("foundation", "fondation")),
    "party": (("حزب",), ("party", "parti")),
    "council": (("مجلس", "شورى", "شورا"), ("council", "conseil", "shura")),
    "committee": (("لجنه", "کمیته"), ("committee", "comite")),
    "bank": (("بنك", "بانک", "مصرف"), ("bank", "banque")),
    "trading": (("تجاره", "تجارت"), ("trading", "trade", "commerce", "commercial")),
    "charity": (("خيريه", "خیریه"), ("charity", "charitable", "relief")),
    "state": (("دوله",), ("state", "etat")),
    "islamic": (("اسلامي", "اسلاميه"), ("islamic", "islamique", "islami", "islamiya", "islamiyya")),
    "armed": (("مسلحه", "مسلح"), ("armed", "arme")),
    "fighting": (
        ("مقاتله", "مقاتل", "مقاتلين", "مقاتلون"),
        ("fighting", "combatant", "combattant", "fighters"),
    ),
    "people": (("اهل",), ("people", "peuple")),
    "supporters": (("انصار",), ("supporters", "partisans")),
    "emigrants": (("مهاجرين", "مهاجرون", "مهاجر"), ("emigrants", "migrants")),
    "peninsula": (("جزيره",), ("peninsula", "island")),
    "levant": (("شام",), ("levant", "sham", "syria", "syrian")),
    "egypt": (("مصر", "مصري"), ("egypt", "egyptian", "egypte")),
    "maghreb": (("مغرب", "مغربي"), ("maghreb", "morocco", "moroccan", "maroc", "marocain")),
    "arab": (("عرب", "عربي"), ("arab", "arabian", "arabe", "arabic")),
    "west": (("غرب",), ("west", "western", "ouest")),
    "east": (("شرق",), ("east", "eastern", "est")),
    "north": (("شمال",), ("north", "northern", "nord")),
    "south": (("جنوب",), ("south", "southern", "sud")),
    "africa": (("افريقيا", "افريقا"), ("africa", "african", "afrique")),
    "caucasus": (("قوقاز",), ("caucasus", "kavkaz")),
}

# spelling variants folded before the look-up: hamza seats, taa marbuta, yaa, kaf, haa
_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي", "ی": "ي",
                          "ک": "ك", "ھ": "ه", "ہ": "ه", "ۀ": "ه", "ئ": "ي", "ؤ": "و"})  # fmt: skip
_LATIN: dict[str, str] = {w: c for c, (_stems, words) in _CONCEPTS.items() for w in words}
_ARABIC: dict[str, str] = {
    s.translate(_LETTERS): c for c, (stems, _words) in _CONCEPTS.items() for s in stems
}
_PREFIX = re.compile("^(?:وال|بال|لل|ال|و|ب|ل)")
_SUFFIXES = ("يه", "يين", "ين", "ون", "ي", "ه")


def latin_concept(latin: str) -> str:
    """The concept of a folded Latin word, or ""."""
    return _LATIN.get(latin, "")


def abjad_concept(word: str) -> str:
    """The concept of an Arabic-script word: tried as is, without an article or a one-letter
    prefix (و, ب, ل), and without a feminine or adjective ending."""
    word = word.translate(_LETTERS)
    for form in dict.fromkeys((word, _PREFIX.sub("", word))):
        if len(form) < 2:
            continue
        found = _ARABIC.get(form)
        if found:
            return found
        for suffix in _SUFFIXES:
            if form.endswith(suffix) and len(form) - len(suffix) >= 2:
                found = _ARABIC.get(form[: -len(suffix)])
                if found:
                    return found
    return ""
