"""Translation equivalents for the generic words of organisation names.

An organisation's name in its original script is often a translation of the listed Latin
name, not a transliteration: "جبهة النصرة" is "AL-NUSRAH FRONT", "شبکه حقانی" is "HAQQANI
NETWORK". No spelling rule relates جبهة and FRONT, so the designators of organisations
(group, front, movement, army, network, company, office, exchange…) and the region names
and adjectives that recur in them get a shared *concept* here, in Arabic (with Persian and
Urdu spellings), in English and French, and for company names in Chinese. Two parts with
the same concept count as a translation of each other. The proper name itself (al-Nusrah,
Haqqani) still has to match by spelling, so a translation that shares only these words
scores low. The list is short and closed on purpose: a name translated word by word
beyond it is not matched.
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
    "limited": ((), ("ltd", "limited")),
    "international": ((), ("international", "internationale", "intl")),
    "shipping": ((), ("shipping", "maritime")),
    "technology": ((), ("technology", "technologies", "tech")),
    "machinery": ((), ("machinery", "machine")),
    "united": ((), ("united", "joint")),
    "hongkong": ((), ("hongkong",)),
    "korea": ((), ("korea", "korean", "chosun", "choson")),
}

# Chinese words (simplified and traditional) of the same kind: the UN list gives Chinese
# names of companies whose Latin names are translations ("華信船務(香港)有限公司" is HUAXIN
# SHIPPING HONGKONG LTD); a Chinese name is cut into these words first, longest first
_HAN: dict[str, str] = {
    "公司": "company", "会社": "company", "會社": "company",
    "有限": "limited", "集团": "group", "集團": "group", "国际": "international",
    "國際": "international", "海运": "shipping", "海運": "shipping", "船务": "shipping",
    "船務": "shipping", "航运": "shipping", "航運": "shipping", "技术": "technology",
    "技術": "technology", "科技": "technology", "贸易": "trading", "貿易": "trading",
    "机械": "machinery", "機械": "machinery", "联合": "united", "聯合": "united",
    "香港": "hongkong", "朝鲜": "korea", "朝鮮": "korea", "银行": "bank", "銀行": "bank",
}  # fmt: skip
_HAN_LONGEST = max(len(w) for w in _HAN)

# spelling variants folded before the look-up: hamza seats, taa marbuta, yaa, kaf, haa
_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي", "ی": "ي",
                          "ک": "ك", "ھ": "ه", "ہ": "ه", "ۀ": "ه", "ئ": "ي", "ؤ": "و"})  # fmt: skip
_LATIN: dict[str, str] = {w: c for c, (_stems, words) in _CONCEPTS.items() for w in words}
_ARABIC: dict[str, str] = {
    s.translate(_LETTERS): c for c, (stems, _words) in _CONCEPTS.items() for s in stems
}
_PREFIX = re.compile("^(?:وال|بال|لل|ال|و|ب|ل)")
_SUFFIXES = ("يه", "يين", "ين", "ون", "ي", "ه")


def han_concept(word: str) -> str:
    """The concept of a Chinese word of the glossary, or ""."""
    return _HAN.get(word, "")


def han_words(text: str) -> list[str]:
    """A run of Chinese characters cut into glossary words (longest first) and the runs of
    other characters between them: "華信船務" -> ["華信", "船務"]."""
    out: list[str] = []
    rest = ""
    i = 0
    while i < len(text):
        for size in range(min(_HAN_LONGEST, len(text) - i), 1, -1):
            if text[i : i + size] in _HAN:
                if rest:
                    out.append(rest)
                    rest = ""
                out.append(text[i : i + size])
                i += size
                break
        else:
            rest += text[i]
            i += 1
    if rest:
        out.append(rest)
    return out


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
