"""Turn a model's free-text output into an answer, recording how it was read.

Rule-based only, in the spirit of BLINK's own scorer (an exact "A".."E" / "(A)".."(E)", else the
one "(X)" token in the output); where BLINK falls back to an LLM judge we return None and the
caller counts the example as wrong and unparsed.

Choice tasks return "A".."E". The first method below that finds any candidate decides; if its
candidates name more than one different letter, or a letter outside the first `n_choices`, the
answer is None (we never guess which of two named answers was meant):

1. exact            the whole response is one letter: "B", "b", "(B)", "[B]", "B.", "**B**"
2. answer_phrase    an explicit phrase followed by a letter: "The answer is B", "Answer: (C) ...",
                    "Option D", "I choose A". After a phrase an uppercase letter is always the
                    answer ("the answer is A because ..."); a lowercase one only when nothing but
                    punctuation follows ("answer: b." yes, "the answer is a cat" no).
3. paren_letter     "(X)" tokens anywhere, BLINK's own fallback: "... so (B) the second image".
4. standalone_letter an uppercase A..E standing alone as a word ("Based on the image, A").
                    Not a letter when part of a word, hyphenated ("A-frame"), an abbreviation
                    ("E.g.") or possessive ("B's"). The article rule: "A" directly followed by a
                    lowercase word is the article ("A cat is on the left"), unless that word is
                    one that cannot follow the article "a": a conjunction, verb or preposition
                    such as "or", "and", "is", "because" ("A or B", "A is darker").

Counting (the one open-ended task) returns a non-negative integer as text, read from digits or
English number words (zero..ninety-nine, "twenty-one" / "twenty one"): "exact" (the whole
response is one number), "answer_phrase" ("the answer is 4"), else every number in the text:
"integer" or "number_word" when they all agree on one value, None when they differ.
"""

from __future__ import annotations

import re

from livr.data.registry import TASK_SPECS
from livr.data.schema import LETTERS, TASKS
from livr.errors import InputError

OPEN_ENDED_TASKS = tuple(t for t, spec in TASK_SPECS.items() if spec.open_ended)  # an integer answer
UNPARSABLE = "unparsable"

# Words that cannot follow the article "a", so an "A" before them is the letter A.
_NOT_AFTER_ARTICLE = frozenset(
    "or and nor but vs versus than then so if while because since as is was seems appears looks "
    "would should could might must will can has had matches corresponds".split()
)

_EXACT = re.compile(r"^[(\[]?\s*([A-Ea-e])\s*[)\]]?\s*[.!]?$")
_PHRASE = (
    r"(?i:\b(?:answer|option|choice)\b"
    r"(?:\s+(?:is|would\s+be|should\s+be|seems\s+to\s+be))?"
    r"|\bI\s+(?:would\s+|will\s+|'d\s+)?(?:choose|select|pick|go\s+with))"
    r"\s*[:=\-]?\s*(?i:(?:option|choice)\s+)?[(\[]?"
)
# Uppercase letter after a phrase, unless another letter is offered next to it ("A or B").
_PHRASE_UPPER = re.compile(_PHRASE + r"([A-E])(?![A-Za-z0-9'’-])(?![)\]]?\s*(?:or|and|/)\s*[(\[]?[A-E]\b)")
_PHRASE_LOWER = re.compile(_PHRASE + r"([a-e])[)\]]?(?=\s*(?:[.!,;]|$))")
_PAREN = re.compile(r"\(([A-E])\)")
_STANDALONE = re.compile(r"(?<![A-Za-z0-9'’-])([A-E])(?![A-Za-z0-9'’-])(?!\.[A-Za-z])")
_NEXT_WORD = re.compile(r"\s+([a-z]+)")

_ONES = (
    "zero one two three four five six seven eight nine ten "
    "eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_NUMBER_WORDS = {w: i for i, w in enumerate(_ONES)} | _TENS
_NUMBER_WORDS |= {
    f"{t}{sep}{o}": tv + ov for t, tv in _TENS.items() for o, ov in zip(_ONES[1:10], range(1, 10)) for sep in ("-", " ")
}
# Longest first so "twenty-one" wins over "twenty".
_WORD_ALT = "|".join(sorted(map(re.escape, _NUMBER_WORDS), key=len, reverse=True))
_NUMBER = rf"(?<![\w.,-])(?:(\d+)|(?i:({_WORD_ALT})))(?![\w-]|[.,]\d)"
_NUMBER_RE = re.compile(_NUMBER)
_NUMBER_EXACT = re.compile(rf"^{_NUMBER}\s*[.!]?$")
_NUMBER_PHRASE = re.compile(r"(?i:\b(?:answer|count|total)\b(?:\s+(?:is|would\s+be|of))?)\s*[:=]?\s*" + _NUMBER)


def extract_answer(response: str, task: str, n_choices: int | None = None) -> str | None:
    """The answer named by `response`: "A".."E" for choice tasks, integer text for counting."""
    return extract_answer_with_method(response, task, n_choices)[0]


def extract_answer_with_method(response: str, task: str, n_choices: int | None = None) -> tuple[str | None, str]:
    """(answer, method); method is "unparsable" exactly when answer is None."""
    if task not in TASKS:
        raise InputError(f"unknown task {task!r}; valid tasks: {', '.join(TASKS)}")
    if n_choices is not None and not 1 <= n_choices <= len(LETTERS):
        raise InputError(f"n_choices is {n_choices}; it must be between 1 and {len(LETTERS)}")
    text = re.sub(r"[*`#]", "", response or "").strip()
    if task in OPEN_ENDED_TASKS:
        return _extract_count(text)
    return _extract_letter(text, LETTERS[: n_choices or len(LETTERS)])


def _extract_letter(text: str, valid: str) -> tuple[str | None, str]:
    for method, letters in (
        ("exact", [m.group(1).upper() for m in [_EXACT.match(text)] if m]),
        (
            "answer_phrase",
            [m.group(1) for m in _PHRASE_UPPER.finditer(text)]
            + [m.group(1).upper() for m in _PHRASE_LOWER.finditer(text)],
        ),
        ("paren_letter", _PAREN.findall(text)),
        ("standalone_letter", [m.group(1) for m in _STANDALONE.finditer(text) if not _is_article(text, m)]),
    ):
        if letters:
            return _single(set(letters), method, valid)
    return None, UNPARSABLE


def _is_article(text: str, m: re.Match) -> bool:
    if m.group(1) != "A":
        return False
    nxt = _NEXT_WORD.match(text, m.end())
    return bool(nxt) and nxt.group(1) not in _NOT_AFTER_ARTICLE


def _single(found: set[str], method: str, valid: str | None = None) -> tuple[str | None, str]:
    """The one value found (and valid, when `valid` is given); None if several or invalid."""
    if len(found) != 1:
        return None, UNPARSABLE
    (answer,) = found
    return (answer, method) if valid is None or answer in valid else (None, UNPARSABLE)


def _extract_count(text: str) -> tuple[str | None, str]:
    if m := _NUMBER_EXACT.match(text):
        return _number_value(m), "exact"
    phrased = {_number_value(m) for m in _NUMBER_PHRASE.finditer(text)}
    if phrased:
        return _single(phrased, "answer_phrase")
    matches = list(_NUMBER_RE.finditer(text))
    if not matches:
        return None, UNPARSABLE
    method = "integer" if any(m.group(1) for m in matches) else "number_word"
    return _single({_number_value(m) for m in matches}, method)


def _number_value(m: re.Match) -> str:
    digits, word = m.group(1), m.group(2)
    if digits is not None:
        return str(int(digits))
    return str(_NUMBER_WORDS[word.lower()])


def extract_letter(response: str, n_choices: int) -> tuple[str | None, str]:
    """(letter, method) for any multiple-choice question with `n_choices` options, by the rules
    above (the comparison benchmarks use it: their task names are not BLINK's)."""
    if not 1 <= n_choices <= len(LETTERS):
        raise InputError(f"n_choices is {n_choices}; it must be between 1 and {len(LETTERS)}")
    return _extract_letter(re.sub(r"[*`#]", "", response or "").strip(), LETTERS[:n_choices])
