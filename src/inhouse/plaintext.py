"""Text a person types that inhouse records and later prints (a ticket's title, a comment, a
price's source): plain text only. A control character in it would act on the terminal of
whoever lists it later (an escape sequence repaints the screen, a bell rings), and a line break
in a one-line field splits the table that shows it.

    check_plain(title, what="the title", one_line=True)
"""

from __future__ import annotations

import unicodedata

from inhouse.errors import InvalidInput

__all__ = [
    "check_plain",
    "check_words_one_script",
    "drawn_reading",
    "invisible",
    "read_alike",
    "reading",
    "readings",
]

#: the control characters a text over several lines may hold: line breaks and tabs
_LAYOUT = frozenset("\n\r\t")


def check_plain(text: str, *, what: str, one_line: bool = False) -> str:
    """``text``, refused with :class:`InvalidInput` naming ``what`` if it holds a control
    character (for ``one_line`` text, line breaks and tabs too)."""
    allowed = frozenset() if one_line else _LAYOUT
    if any(unicodedata.category(char) == "Cc" and char not in allowed for char in text):
        also = "line breaks, tabs or " if one_line else ""
        raise InvalidInput(
            f"{what} holds a control character ({also}an escape sequence, a bell): "
            f"{text[:80]!r}; type it as plain text"
        )
    return text


#: letters of other scripts a reader takes for Latin ones (Cyrillic, Greek and Armenian, each
#: with its capital), with the Latin letter they read as: a declaration table, written as
#: escapes so that no editor shows two names alike that are not. A letter and its capital read
#: alike, so that reading keeps case folded (a Cyrillic capital en looks like H, and its small
#: letter is its)
_LOOKALIKE_LETTERS = (
    "\u0430\u0432\u0435\u0455\u0456\u0458\u043a\u043c\u043d\u043e\u0440\u0441\u0442\u0445"
    "\u0443\u04af\u04bb\u0501\u051b\u051d\u04cf\u03b1\u03b2\u03b5\u03b6\u03b7\u03b9\u03ba"
    "\u03bc\u03bd\u03bf\u03c1\u03c4\u03c5\u03c7\u0585\u057d\u0570\u0578\u0581\u0566"
)
_LOOKALIKE_LATIN = "abesijkmhopctxyyhdqwlabezhikmnoptyxouhngq"
#: more letters drawn as Latin ones (exit rule 16, :data:`~inhouse.program.checks.
#: LOOKALIKE_READING`), with the Latin letter each reads as: Latin's own that look like its
#: plain letters (an alpha, a script g, the small capitals: "om\u0251r" and
#: "\u1d0f\u1d0d\u1d00\u0280" show as omar), Coptic's that look like Greek's (a Coptic o),
#: and the Lisu letters drawn as Latin capitals ("OMAR" in Lisu; those drawn turned or reversed
#: are left out). No two letters of one script map to the same Latin letter: names written whole
#: in Lisu or Coptic read apart from each other, and alike only with the Latin name they show as
_WIDER_LETTERS = (
    "\u0251\u0261\u1d00\u0299\u1d04\u1d05\u1d07\ua730\u0262\u029c\u026a\u1d0a\u1d0b\u029f\u1d0d"
    "\u0274\u1d0f\u1d18\u0280\ua731\u1d1b\u1d1c\u1d20\u1d21\u028f\u1d22"
    "\u2c81\u2c83\u2c89\u2c93\u2c95\u2c9f\u2ca3\u2ca5\u2ca7\u2ca9\u2cad"
    "\ua4ee\ua4d0\ua4da\ua4d3\ua4f0\ua4dd\ua4d6\ua4e7\ua4f2\ua4d9\ua4d7\ua4e1\ua4df\ua4e0\ua4f3"
    "\ua4d1\ua4e3\ua4e2\ua4d4\ua4f4\ua4e6\ua4ea\ua4eb\ua4ec\ua4dc"
)
_WIDER_LATIN = "agabcdefghijklmnoprstuvwyzabeikopctyxabcdefghijklmnoprstuvwxyz"


def _table(letters: str, latins: str) -> dict[int, str]:
    return {
        ord(each): latin
        for letter, latin in zip(letters, latins, strict=True)
        for each in (letter, letter.upper())
    }


#: the rest of the letters Unicode's confusables (UTS #39, ``confusables.txt``, version 17)
#: draw as one plain Latin letter, in the scripts above, Cherokee and Latin's own (exit rule 24,
#: :data:`~inhouse.program.checks.CONFUSABLE_READING`), each code point as Unicode draws it, in
#: the case written, with the Latin letter it reads as (or the letter the project reads Unicode's
#: drawing as: a small capital M, a kra as k): Armenian (a small ayb as w; its capital, drawn as
#: no Latin letter, is itself), Cherokee (its capitals are drawn as Latin capitals:
#: "\u13b7\u13aa\u13a1\u13e6" shows as MARK), Coptic, Cyrillic (a small ghe as r and a sha as w,
#: not their capitals, drawn as a gamma and as no Latin letter; a capital soft sign as b, not its
#: small letter, drawn as a tone six), Greek (a small gamma as y), Latin's own (a thorn as p) and
#: Lisu's pha (d). Where Unicode draws two letters of one script as one Latin letter (Cherokee's
#: nah and yu as G, an Armenian small gim and za as q) they read alike, as they show; two it
#: draws apart read apart ("\u0533\u0578\u0570\u0561\u0580" and
#: "\u0536\u0578\u0570\u0561\u0580", Gohar and Zohar, are two names). Left as they read
#: before: a Greek nu (drawn as v, read n) and sigma, a Turkish dotless i, a long s (NFKC's s),
#: a Cyrillic small iota (drawn as i; a Byelorussian-Ukrainian I, which reads i, is drawn as l),
#: and the strokes :func:`drawn_reading` draws as one.
#: ``tests/test_confusables_data.py`` holds the table to Unicode's file, code point by code point
_CONFUSABLE_LETTERS = (
    "\u0561\u0563\u057c\u054f\u0582\u0584\u13fb\u13f3\u13fc\u13f4\uab70\u13a0\uab71\u13a1\uab72"
    "\u13a2\uab75\u13a5\u13a9\uab7a\u13aa\uab7b\u13ab\uab7c\u13ac\uab81\uab83\u13b3\uab87\u13b7"
    "\uab8b\u13bb\u13bd\uab90\u13c0\u13c2\uab93\u13c3\u13cf\uaba2\u13d2\u13d4\u13d5\uaba9\u13d9"
    "\uabaa\u13da\uabae\u13de\uabaf\u13df\uabb2\u13e2\uabb6\u13e6\u13e7\u03ed\u2c85\u2c8f\u2c8e"
    "\u2c99\u2c98\u2c9b\u2c9a\u2cbd\u2ccf\u2cce\u2cd1\u2cd0\u0433\u0448\u042c\u0461\u0475\u0474"
    "\u04bd\u050d\u050c\u03b3\u03dc\u03f3\u037f\u03f8\u03fa\u1d26\xfe\u0184\u018d\u0192"
    "\u01bd\u01bf\u0263\u026f\u028b\ua7b2\u1d11\u1d83\u1d8c\u1e9d\u1eff\ua799\ua798\ua79f\ua7b5"
    "\ua7b4\uab32\uab35\uab3d\uab47\uab48\uab4e\uab52\uab53\ua7b3\uab5a\ua4d2"
)
_CONFUSABLE_LATIN = (
    "wqnsifggbbddrrttiiyaajjeerwwmmhhygghzzbrrwsvvssllccppkkdorhhmmnnwppllrwbwvveggyf"
    "jjpmrpbgfspywujogyfyffubbeforruuxxyd"
)
#: letters Unicode's confusables draw as an O with a short stroke across it (U+0335), which
#: :func:`drawn_reading` draws as an O (from exit rule 24): Latin's barred O and O with a long
#: stroke, a Greek theta, Cyrillic's barred O and fita, Coptic's thethe, and Cherokee's na and wi
#: ("\u13be\u13b7\u13aa\u13a1" shows as OMAR)
_BARRED_O = "\u0275\ua74b\u03b8\u04e9\u0473\u2c91\uab8e\uabbb"


_LOOKALIKES = str.maketrans(_table(_LOOKALIKE_LETTERS, _LOOKALIKE_LATIN))
#: :data:`_LOOKALIKES` and :data:`_WIDER_LETTERS`: what :func:`reading` folded before exit rule 24
_WIDER_LOOKALIKES = {**_LOOKALIKES, **_table(_WIDER_LETTERS, _WIDER_LATIN)}
#: letters :data:`_WIDER_LOOKALIKES` folds (by their small letter) that Unicode draws otherwise, or
#: not at all, where that merges two letters of one script drawn apart: a Greek upsilon, drawn as
#: u (a gamma is the y), and the Armenian capitals za and vo, which Unicode draws as no Latin
#: letter (a small gim is the q and a small ra the n). :func:`reading` reads each as Unicode
#: draws it; :func:`read_alike` still takes them as :data:`_WIDER_LOOKALIKES` reads them
_DRAWN_APART = {ord("\u03c5"): "u", ord("\u0536"): "\u0536", ord("\u0548"): "\u0548"}
#: :data:`_WIDER_LOOKALIKES`, :data:`_CONFUSABLE_LETTERS` and :data:`_DRAWN_APART`: what
#: :func:`reading` folds
_CONFUSABLE_LOOKALIKES = {
    **_WIDER_LOOKALIKES,
    **{ord(c): latin for c, latin in zip(_CONFUSABLE_LETTERS, _CONFUSABLE_LATIN, strict=True)},
    **_DRAWN_APART,
}


#: characters that show as nothing (or a blank) that are not format characters (``Cf``): the
#: combining grapheme joiner, the Hangul fillers, Khmer's inherent vowels, Mongolian's
#: free variation selectors and the variation selectors (Unicode's default-ignorable code points
#: outside ``Cf``), and the braille blank. "ops" with one of them reads as "ops"
_BLANKS = frozenset(
    chr(c)
    for first, last in (
        (0x034F, 0x034F),
        (0x115F, 0x1160),
        (0x17B4, 0x17B5),
        (0x180B, 0x180D),
        (0x180F, 0x180F),
        (0x2800, 0x2800),
        (0x3164, 0x3164),
        (0xFE00, 0xFE0F),
        (0xFFA0, 0xFFA0),
        (0xE0100, 0xE01EF),
    )
    for c in range(first, last + 1)
)


def invisible(char: str) -> bool:
    """Whether ``char`` shows as nothing a reader sees: a format character (a zero-width space,
    a direction mark) or one of :data:`_BLANKS` (a combining grapheme joiner, a variation
    selector, a Hangul filler)."""
    return unicodedata.category(char) == "Cf" or char in _BLANKS


#: scripts with letters a reader cannot tell from Latin ones (a Cyrillic o, a Greek capital
#: iota, an Armenian oh, a Cherokee letter that is drawn as a Latin capital)
_LOOKALIKE_SCRIPTS = frozenset({"ARMENIAN", "CHEROKEE", "COPTIC", "CYRILLIC", "GREEK", "LISU"})


def check_words_one_script(text: str, *, what: str) -> str:
    """``text`` where no word of it mixes Latin letters with lookalike ones
    (:func:`_lookalike_mix`: a name or team that reads as another's), else InvalidInput naming
    the scripts."""
    if mixed := _lookalike_mix(text):
        raise InvalidInput(
            f"{what} must not mix Latin letters with {' or '.join(mixed)} ones in a word, which "
            f"read the same: {text!r}; type each word in one script"
        )
    return text


def _lookalike_mix(text: str) -> list[str]:
    """The lookalike scripts (:data:`_LOOKALIKE_SCRIPTS`, title case) that a word of ``text``
    (what spaces part: "o-mar" is one word) mixes with Latin letters: "omar" with a Cyrillic o,
    not "Anna" beside its Cyrillic spelling. Empty: no word does."""
    mixed: set[str] = set()
    for word in unicodedata.normalize("NFKC", text).split():
        scripts = {unicodedata.name(c, "").split(" ", 1)[0] for c in word if c.isalpha()}
        if "LATIN" in scripts:
            mixed |= scripts & _LOOKALIKE_SCRIPTS
    return sorted(s.title() for s in mixed)


def reading(text: str, *, wider: bool = True, confusables: bool = True) -> str:
    """How ``text`` (a name, a team) reads to a person: its compatibility forms folded (NFKC:
    fullwidth letters are letters), invisible characters dropped (:func:`invisible`: a
    zero-width space, a direction mark, a variation selector), a letter Unicode's confusables
    draw as a Latin one (Cyrillic, Greek, Armenian, Cherokee, Coptic or Lisu, or a Latin small
    capital or alpha) read as that Latin letter, each code point as Unicode draws it in the
    case written (a Cyrillic small ghe as r, its capital as itself), case folded after and
    spaces collapsed. Two texts
    that read alike are one to whoever reads them. ``confusables=False``: as it read before
    exit rule 24 (Cherokee's and the rest of :data:`_CONFUSABLE_LETTERS` as themselves);
    ``wider=False``: as it read before exit rule 16 (Cyrillic, Greek and Armenian letters
    only); each for a pilot whose play 4 exited on it."""
    folded = unicodedata.normalize("NFKC", text)
    shown = "".join(c for c in folded if not invisible(c))
    if not wider:
        table = _LOOKALIKES
    else:
        table = _CONFUSABLE_LOOKALIKES if confusables else _WIDER_LOOKALIKES
    return " ".join(shown.translate(table).casefold().split())


#: one stroke, drawn alike in the sans-serif faces pages and terminals show names in: a capital
#: I and a small l ("Ian" and "lan"), the digit one, a vertical bar, and the letters Unicode's
#: confusables (UTS #39) draw as a small l: Latin's dental click and capital iota, a Greek
#: capital iota, a Cyrillic capital dotted i and palochka. Each reads as the bar, which case
#: folding leaves alone: a capital L is no capital I ("Lan" and "Ian", "LT" and "IT", "ML" and
#: "MI" are two), and a small i has its dot ("Ella" and "Eila")
_STROKES = "Il1|\u01c0\u0196\u0399\u0406\u04c0"
#: what else plain Latin draws alike there: the digit zero and a capital O ("0mar", "Omar")
_DRAWN_ALIKE = str.maketrans({**dict.fromkeys(_STROKES, "|"), "0": "O"})
#: and, from exit rule 24, an O with a stroke across it (:data:`_BARRED_O`) and an O, and the
#: capitals Unicode draws as a small l that reading takes for an i: a Coptic iauda, a Lisu I
_DRAWN_CONFUSABLE = {
    **_DRAWN_ALIKE,
    **_table(_BARRED_O, "o" * len(_BARRED_O)),
    **str.maketrans(dict.fromkeys("\u2c92\ua4f2", "|")),
}
#: pairs of small letters drawn as one: "ornar" shows as omar (UTS #39 draws m as "rn"), and
#: "vv" as w. Read with the joiners a name may hold dropped: "or" ZWJ "nar" shows as ornar
_DRAWN_PAIRS = (("rn", "m"), ("vv", "w"))


def drawn_reading(text: str, *, confusables: bool = True) -> str:
    """How ``text`` reads (:func:`reading`) where letters drawn alike are one: a capital I, a
    small l and the digit one (:data:`_STROKES`), a zero and an O, an O with a stroke across
    it (a Cherokee na, a Greek theta, a Cyrillic barred O: :data:`_BARRED_O`) and an O, "rn" and
    m, "vv" and w. Two names whose drawn readings agree show alike on a page ("Ian" and "lan",
    "0mar" and "omar", "ornar" and "omar"); :func:`read_alike` asks it beside :func:`reading`.
    ``confusables=False``: as it read before exit rule 24 (a barred O apart from an O, and
    :func:`reading` so)."""
    folded = unicodedata.normalize("NFKC", text)
    table = _DRAWN_CONFUSABLE if confusables else _DRAWN_ALIKE
    drawn = "".join(c for c in folded if not invisible(c)).translate(table)
    for pair, letter in _DRAWN_PAIRS:
        drawn = drawn.replace(pair, letter)
    return reading(drawn, confusables=confusables)


def readings(text: str) -> tuple[str, ...]:
    """Each way ``text`` reads, for comparing with another's, place by place: as it reads
    (:func:`reading`), as it is drawn (:func:`drawn_reading`), and both as exit rule 16 read
    them (``confusables=False``). Unicode draws a Greek upsilon as u and a gamma as y, an
    Armenian capital za as no Latin letter and a small gim as q: :func:`reading` keeps each
    pair apart ("\u0533\u0578\u0570\u0561\u0580" and "\u0536\u0578\u0570\u0561\u0580"
    are two names), and rule 16's reading still takes an upsilon for a y and a za for a q, as
    it did, and a capital for its small letter (a name in capitals is the name)."""
    return (
        reading(text),
        drawn_reading(text),
        reading(text, confusables=False),
        drawn_reading(text, confusables=False),
    )


def read_alike(one: str, other: str) -> bool:
    """Whether two names read alike (:func:`reading`), or would but for letters drawn alike
    (:func:`drawn_reading`): "Ian" and "lan", "0mar" and "omar", "ornar" and "omar", or as exit
    rule 16 read them (:func:`readings`). Asked pair by pair (an I is an l, and an L an l by
    case, yet "Ian" and "Lan" are two names); where many are asked, compare each one's
    :func:`readings` once instead."""
    return any(a == b for a, b in zip(readings(one), readings(other), strict=True))
