"""How hard a secret is to guess: an estimate in bits, in the manner of password meters.

The secret is read as the cheapest sequence of pieces an attacker's guesser would try: a
word (from a short list of words secrets are made of, the service's own names, or any
pronounceable run of letters), a year, a keyboard run (``qwerty``, ``asdf``), an alphabetical
or numerical sequence (``abcd``, ``6543``), a repeat of something earlier in the secret, or
else a character chosen at random from the character classes the secret uses. Each piece
costs the bits it takes to name it; the estimate is their sum. It errs towards strength for
random strings (a character of a random string is counted as one of all the classes it
uses) and towards weakness for anything made of words, names, dates or patterns.
"""

import math
import re
import string
from collections.abc import Iterable, Iterator

# Characters read: a secret longer than this is judged by its beginning, which for a random
# secret is already far past any threshold, and for a patterned one patterned too.
CHARACTERS_READ = 128
# Letters beyond this are not one word.
LONGEST_WORD = 24
# Words secrets, passwords and the examples of their documentation are made of.
COMMON_WORDS = frozenset(
    {
        "access",
        "admin",
        "api",
        "app",
        "auth",
        "backend",
        "change",
        "default",
        "dev",
        "development",
        "hmac",
        "jwt",
        "key",
        "letmein",
        "local",
        "login",
        "master",
        "my",
        "our",
        "pass",
        "passwd",
        "password",
        "private",
        "prod",
        "production",
        "qwerty",
        "root",
        "secret",
        "secure",
        "server",
        "service",
        "sign",
        "signing",
        "staging",
        "super",
        "test",
        "token",
        "user",
        "welcome",
    }
)
# About the vocabulary of a language: what naming one word of it costs.
WORD_BITS = math.log2(100_000)
YEAR_BITS = math.log2(200)  # 1900 to 2099
KEYBOARD_ROWS = ("`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./")
KEYBOARD_KEYS = sum(len(row) for row in KEYBOARD_ROWS)
SHORTEST_PATTERN = 3
SHORTEST_WORD = 5
LETTERS = re.compile(r"[a-z]+|[A-Z][a-z]+|[A-Z]+")
YEAR = re.compile(r"(19|20)\d\d")
# A pronounceable run of letters: some vowels, and never four consonants in a row.
PRONOUNCEABLE = re.compile(r"(?!.*[^aeiouy]{4})(?=.*[aeiouy]).*")
# The share of a word's letters that are distinct at least ("shipping": 6 of 8).
WORD_LETTER_VARIETY = 0.6
CHARACTER_CLASSES = (
    frozenset(string.ascii_lowercase),
    frozenset(string.ascii_uppercase),
    frozenset(string.digits),
    frozenset(string.punctuation + " "),
)


def name_words(names: Iterable[str]) -> frozenset[str]:
    """The words of the service's own names (``inventory-service``: inventory, service)."""
    return frozenset(
        word
        for name in names
        for word in re.split(r"[^a-z0-9]+", name.lower())
        if len(word) >= SHORTEST_PATTERN
    )


def character_bits(secret: str) -> float:
    """What a character chosen at random from the classes ``secret`` uses costs to guess."""
    pool = sum(len(chars) for chars in CHARACTER_CLASSES if chars.intersection(secret))
    others = {char for char in secret if not any(char in chars for chars in CHARACTER_CLASSES)}
    # Characters outside ASCII: counted as one of a large alphabet each.
    return math.log2(pool + (1000 if others else 0))


def capitalisation_bits(text: str) -> float:
    """Bits for how a word is capitalised: lower, Title or UPPER are the guesses tried first."""
    if text.islower() or not any(char.isalpha() for char in text):
        return 0.0
    if text.isupper() or (text[0].isupper() and text[1:].islower()):
        return 1.0
    return float(sum(char.isupper() for char in text))


def looks_like_a_word(letters: str) -> bool:
    """Whether a run of letters could be a word: pronounceable, and of varied letters.

    Random letters from a small alphabet (hex digits' a to f) are often pronounceable, but
    repeat their few letters more than words do.
    """
    lowered = letters.lower()
    varied = len(set(lowered)) >= WORD_LETTER_VARIETY * len(lowered)
    return varied and PRONOUNCEABLE.fullmatch(lowered) is not None


def keyboard_run_length(text: str, start: int) -> int:
    """How many characters from ``start`` run along one keyboard row, in either direction."""
    lowered = text.lower()
    for row in KEYBOARD_ROWS:
        position = row.find(lowered[start]) if start < len(text) else -1
        if position < 0:
            continue
        best = 1
        for step in (1, -1):
            length = 1
            while (
                start + length < len(text)
                and 0 <= position + step * length < len(row)
                and lowered[start + length] == row[position + step * length]
            ):
                length += 1
            best = max(best, length)
        return best
    return 1


def sequence_length(text: str, start: int) -> int:
    """How many characters from ``start`` count up or down by one (``abcd``, ``9876``)."""
    if start + 1 >= len(text):
        return 1
    step = ord(text[start + 1]) - ord(text[start])
    if abs(step) != 1 or not text[start].isalnum():
        return 1
    length = 2
    while (
        start + length < len(text)
        and text[start + length].isalnum()
        and ord(text[start + length]) - ord(text[start + length - 1]) == step
    ):
        length += 1
    return length


def longest_repeat(text: str, start: int) -> tuple[int, int]:
    """The longest text from ``start`` that repeats text found earlier: (length, distance)."""
    best = (0, 0)
    for earlier in range(start):
        length = 0
        while start + length < len(text) and text[earlier + length] == text[start + length]:
            length += 1
        if length > best[0]:
            best = (length, start - earlier)
    return best


def pieces(text: str, start: int, own_words: frozenset[str]) -> Iterator[tuple[int, float]]:
    """Every way to read a piece of ``text`` from ``start``: where it ends, and its bits."""
    # A separator used before ("-" between words) is one of the few the secret uses.
    if text[start] in string.punctuation and text[start] in text[:start]:
        yield start + 1, 1.0
    else:
        yield start + 1, character_bits(text)
    lowered = text[start:].lower()
    for word in COMMON_WORDS | own_words:
        if lowered.startswith(word):
            listed = own_words if word in own_words else COMMON_WORDS
            end = start + len(word)
            yield end, math.log2(len(listed)) + capitalisation_bits(text[start:end])
    if letters := LETTERS.match(text, start):
        for end in range(start + SHORTEST_WORD, min(letters.end(), start + LONGEST_WORD) + 1):
            if looks_like_a_word(text[start:end]):
                yield end, WORD_BITS + capitalisation_bits(text[start:end])
    if YEAR.match(text, start):
        yield start + 4, YEAR_BITS
    for length, first in (
        (keyboard_run_length(text, start), math.log2(KEYBOARD_KEYS) + 1),
        (sequence_length(text, start), character_bits(text) + 1),
    ):
        for end in range(start + SHORTEST_PATTERN, start + length + 1):
            yield end, first + math.log2(end - start)
    length, distance = longest_repeat(text, start)
    # A repeat names where its original is and how long it is.
    for end in range(start + SHORTEST_PATTERN, start + length + 1):
        yield end, math.log2(distance) + 1 + math.log2(end - start)


def estimate_bits(secret: str, names: Iterable[str] = ()) -> float:
    """The bits an attacker's guesser needs to find ``secret``, at a generous estimate.

    ``names`` are the service's own names (its slug, issuer): words of them cost next to
    nothing, as they are the first an attacker who knows the service tries.
    """
    text = secret[:CHARACTERS_READ]
    own_words = name_words(names)
    # cheapest[i]: the fewest bits that name text[i:], filled from the end.
    cheapest = [0.0] * (len(text) + 1)
    for start in range(len(text) - 1, -1, -1):
        cheapest[start] = min(bits + cheapest[end] for end, bits in pieces(text, start, own_words))
    return cheapest[0]
