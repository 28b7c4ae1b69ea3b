"""Language identification with lingua, restricted to the languages we read."""

from __future__ import annotations

from functools import cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

_LANGUAGES = {
    Language.ENGLISH: "en",
    Language.RUSSIAN: "ru",
    Language.TURKISH: "tr",
    Language.SPANISH: "es",
    Language.GERMAN: "de",
    Language.FRENCH: "fr",
    Language.ARABIC: "ar",
}


@cache
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*_LANGUAGES).with_low_accuracy_mode().build()


def detect_language(text: str, default: str = "en") -> str:
    """ISO 639-1 code of the text's language; ``default`` when unsure or empty."""
    sample = text[:2000]
    if not sample.strip():
        return default
    found = _detector().detect_language_of(sample)
    return _LANGUAGES.get(found, default) if found is not None else default
