"""Korean names in Hangul, read the ways they are romanised on lists and in the press.

A Hangul syllable is an initial consonant, a vowel and an optional final, so it is read by
arithmetic, not by a table of syllables. Each syllable is one name part (Korean writes
"김정은" as one word; lists write "KIM Jong Un", "Kim Jong-un" or "Kim Jongun"), with its
readings: McCune-Reischauer without its marks (North Korean names on sanctions lists: "Jong",
"Ryong", "Choe"), the Revised Romanization of South Korea ("Jeong", "Gim") and the informal
spellings of passports and the press ("Sung", "Hyun", "Joon", "Soo"). Family names also have
settled spellings of their own ("Park", "Lee", "Choi"), given first.
"""

from __future__ import annotations

_FIRST, _LAST = 0xAC00, 0xD7A3

# Initial consonants in Unicode order (ㄱ ㄲ ㄴ ㄷ ㄸ ㄹ ㅁ ㅂ ㅃ ㅅ ㅆ ㅇ ㅈ ㅉ ㅊ ㅋ ㅌ ㅍ ㅎ).
_INITIAL_MR = ("k", "kk", "n", "t", "tt", "r", "m", "p", "pp", "s", "ss", "", "j", "jj", "ch",
               "k", "t", "p", "h")  # fmt: skip
_INITIAL_RR = ("g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch",
               "k", "t", "p", "h")  # fmt: skip
# Vowels in Unicode order (ㅏ ㅐ ㅑ ㅒ ㅓ ㅔ ㅕ ㅖ ㅗ ㅘ ㅙ ㅚ ㅛ ㅜ ㅝ ㅞ ㅟ ㅠ ㅡ ㅢ ㅣ);
# MR's ŏ and ŭ lose their marks.
_VOWEL_MR = ("a", "ae", "ya", "yae", "o", "e", "yo", "ye", "o", "wa", "wae", "oe", "yo", "u",
             "wo", "we", "wi", "yu", "u", "ui", "i")  # fmt: skip
_VOWEL_RR = ("a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u",
             "wo", "we", "wi", "yu", "eu", "ui", "i")  # fmt: skip
_INITIAL_INFORMAL = ("k", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj",
                     "ch", "k", "t", "p", "h")  # fmt: skip
_VOWEL_INFORMAL = ("a", "ae", "ya", "yae", "u", "e", "yu", "ye", "o", "wa", "wae", "oe", "yo",
                   "oo", "wo", "we", "wi", "yu", "eu", "ui", "i")  # fmt: skip
# Finals as pronounced at the end of a syllable (none, ㄱ ㄲ ㄳ ㄴ ㄵ ㄶ ㄷ ㄹ ㄺ ㄻ ㄼ ㄽ ㄾ
# ㄿ ㅀ ㅁ ㅂ ㅄ ㅅ ㅆ ㅇ ㅈ ㅊ ㅋ ㅌ ㅍ ㅎ).
_FINAL = ("", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m",
          "p", "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t")  # fmt: skip

# Family names whose usual spellings the systems above do not give: the commonest first.
FAMILY_NAMES = {
    "김": ("kim", "gim"), "이": ("lee", "ri"), "리": ("ri", "lee"), "박": ("park", "pak"),
    "최": ("choi", "choe"), "정": ("jung", "chong"), "강": ("kang", "gang"), "조": ("cho", "jo"),
    "윤": ("yoon", "yun"), "장": ("jang", "chang"), "임": ("lim", "im"), "림": ("rim", "lim"),
    "오": ("oh", "o"), "서": ("seo", "suh"), "신": ("shin", "sin"), "권": ("kwon", "gwon"),
    "안": ("ahn", "an"), "류": ("ryu", "yoo"), "유": ("yoo", "yu"), "전": ("jeon", "chon"),
    "고": ("ko", "go"), "문": ("moon", "mun"), "손": ("son", "sohn"), "배": ("bae", "pae"),
    "백": ("baek", "paek"), "허": ("heo", "hur"), "심": ("shim", "sim"), "노": ("roh", "no"),
    "로": ("ro", "roh"), "곽": ("kwak", "gwak"), "성": ("sung", "song"), "주": ("joo", "ju"),
    "우": ("woo", "u"), "구": ("koo", "ku"), "진": ("jin", "chin"), "나": ("na", "ra"),
    "지": ("ji", "chi"), "엄": ("um", "eom"), "천": ("chun", "chon"), "방": ("bang", "pang"),
    "공": ("kong", "gong"), "현": ("hyun", "hyon"), "변": ("byun", "pyon"),
    "염": ("yeom", "yom"), "여": ("yeo", "yo"), "추": ("choo", "chu"), "도": ("do", "to"),
    "석": ("seok", "sok"), "선": ("sun", "son"), "설": ("seol", "sol"), "길": ("gil", "kil"),
    "연": ("yeon", "yon"), "명": ("myung", "myong"), "기": ("ki", "gi"), "반": ("ban", "pan"),
    "라": ("ra", "na"), "금": ("keum", "kum"), "육": ("yook", "yuk"), "국": ("kook", "kuk"),
    "제": ("je", "che"), "용": ("yong", "ryong"), "량": ("ryang", "yang"), "양": ("yang", "ryang"),
}  # fmt: skip


def is_syllable(ch: str) -> bool:
    return _FIRST <= ord(ch) <= _LAST


def is_hangul_word(token: str) -> bool:
    """A word made only of Hangul syllables (split into one part per syllable)."""
    return bool(token) and all(is_syllable(ch) for ch in token)


def readings(syllable: str) -> tuple[str, ...]:
    """Latin readings of one syllable, each once: family-name spellings, MR, RR, informal."""
    code = ord(syllable) - _FIRST
    initial, rest = divmod(code, 21 * 28)
    vowel, final = divmod(rest, 28)
    spelt = (
        *FAMILY_NAMES.get(syllable, ()),
        _INITIAL_MR[initial] + _VOWEL_MR[vowel] + _FINAL[final],
        _INITIAL_RR[initial] + _VOWEL_RR[vowel] + _FINAL[final],
        _INITIAL_INFORMAL[initial] + _VOWEL_INFORMAL[vowel] + _FINAL[final],
    )
    return tuple(dict.fromkeys(spelt))
