"""Which language to answer a customer in, and how to say a waiting time in it.

Customers write Indonesian or English; the first automatic reply should come back in the language they wrote in.
A fixed stop-word score is enough for that, and unlike a statistical model it is deterministic: the same mail
always gets the same language, and a support lead can see why.
"""

from __future__ import annotations

import math
import re

__all__ = ["SUPPORTED_LANGUAGES", "detect_language", "format_duration"]

SUPPORTED_LANGUAGES = ("id", "en")

# Words common in support mail that are frequent in one language and (practically) absent from the other.
# Words Indonesians mix into chat ("hi", "sorry", "issue") and loanwords both use ("login", "email", "password",
# "ok", "error") carry no signal and are left out. Phrases such as "terima kasih" count through their words.
_INDONESIAN = frozenset(
    """
    yang tidak tdk gak nggak enggak saya sy aku bisa bs dan ini itu untuk utk dengan dgn ada sudah sdh udah
    belum blm mohon tolong terima kasih makasih halo selamat pagi siang sore malam bapak ibu pak bu kak kami
    kita anda akun gagal masih di ke dari apa apakah bagaimana kenapa mengapa karena tapi tetapi juga sejak
    lagi sekali atas bantuan bantu dibantu segera hari jam kalau jika agar supaya sama pesanan pembayaran
    sandi masuk kata dapat harus sedang hanya mau ingin sampai setelah sebelum baru lama muncul salam hormat
    """.split()
)
_ENGLISH = frozenset(
    """
    the and is are was were not can cannot can't i i'm i've my me please thanks thank hello have has had
    with this that these those account to of it you your we our for from but be been on in at what why how
    when would could should will since still again help order payment any there just already yet get got
    does doesn't don't didn't isn't won't able dear regards morning afternoon evening
    """.split()
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def detect_language(text: str, default: str = "en") -> str:
    """"id" or "en" by whole-word, case-insensitive stop-word counts; a tie or no signal gives ``default``.

    A tie is not a guess: a two-word "ok thanks" reply is better answered in the ticket's known language.
    """
    indonesian = english = 0
    for word in _WORD.findall(text.lower().replace("\u2019", "'")):
        if word in _INDONESIAN:
            indonesian += 1
        elif word in _ENGLISH:
            english += 1
    if indonesian > english:
        return "id"
    if english > indonesian:
        return "en"
    return default


# (singular, plural) per unit; Indonesian nouns do not inflect for number.
_UNITS = {
    "en": {"minute": ("minute", "minutes"), "hour": ("hour", "hours"), "day": ("day", "days")},
    "id": {"minute": ("menit", "menit"), "hour": ("jam", "jam"), "day": ("hari", "hari")},
}
_ABOUT = {"en": "about", "id": "sekitar"}
_WITHIN_A_MINUTE = {"en": "within a minute", "id": "dalam satu menit"}
_DECIMAL_POINT = {"en": ".", "id": ","}

_MINUTE = 60
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
# Float noise (e.g. 900.0000001 s from a subtraction of timestamps) must not round 15 minutes up to 20.
_EPSILON = 1e-6


def _ceil_to(seconds: float, step: float) -> float:
    return math.ceil(seconds / step - _EPSILON) * step


def format_duration(seconds: float, language: str) -> str:
    """A waiting time as a customer reads it: "about 2 hours" / "sekitar 2 jam".

    Rounded up, never down, so we promise a little later than we expect rather than earlier: to 5 minutes under
    an hour, to the half hour under 6 hours, to the hour under 2 days, then to the day. Exactly 24 hours reads
    "about 1 day", the way a one-day target is usually said. Languages other than Indonesian get English.
    """
    if math.isnan(seconds) or math.isinf(seconds):
        raise ValueError(f"a waiting time must be a finite number of seconds, got {seconds!r}")
    lang = "id" if language.strip().lower().split("-")[0] == "id" else "en"
    if seconds < _MINUTE:
        return _WITHIN_A_MINUTE[lang]
    rounded = _ceil_to(seconds, 5 * _MINUTE)
    if rounded < _HOUR:
        return _about(rounded / _MINUTE, "minute", lang)
    if seconds < 6 * _HOUR:
        return _about(_ceil_to(seconds, _HOUR / 2) / _HOUR, "hour", lang)
    rounded = _ceil_to(seconds, _HOUR)
    if rounded < 2 * _DAY and rounded != _DAY:
        return _about(rounded / _HOUR, "hour", lang)
    return _about(_ceil_to(seconds, _DAY) / _DAY, "day", lang)


def _about(amount: float, unit: str, lang: str) -> str:
    whole = amount == int(amount)
    number = str(int(amount)) if whole else f"{amount:.1f}".replace(".", _DECIMAL_POINT[lang])
    singular, plural = _UNITS[lang][unit]
    return f"{_ABOUT[lang]} {number} {singular if whole and int(amount) == 1 else plural}"
