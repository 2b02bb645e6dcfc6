"""The corpus's own wording: choice lists in several formats, open-answer variants, counting
questions and the lead-in sentences (never BLINK's "Select from the following choices.")."""

from __future__ import annotations

from livr.data.synthetic.sampling import pick

LETTERS = "ABCD"
OPEN_SHARE = 0.4
OPEN_INSTRUCTIONS = ("Answer with a word or a short phrase.", "Reply with the name only.", "Say it in a few words.")

# Generic lead-in sentences, some prepended to a question so the model also meets long prompts
# full of words that do not change the answer (the corpus's own, never BLINK's).
PREAMBLE = (
    "Look at the picture carefully before you answer.",
    "The images were drawn by a computer program.",
    "Each image is a small drawing of simple things on a plain background.",
    "Think about what you can see in the image.",
    "Some questions are about one image and some are about several images shown one after another.",
    "The first image is shown first, then the second image, then the third image if there is one.",
    "Points in an image may be marked with small circles, and a letter is written beside each circle.",
    "Objects can be circles, squares, triangles or diamonds of different colours and sizes.",
    "Pay attention to the colours, the shapes and where things are placed.",
    "Only one of the options is correct.",
    "The options below are listed with letters.",
    "Answer the question about the picture.",
    "You are given a question about the image and a few possible answers.",
    "Consider the whole image, including the edges and corners.",
    "The lighting is the same everywhere in these drawings.",
    "A careful observer can answer this from the image alone.",
    "This is a simple visual question.",
    "Here is an image and a question about it.",
    "The drawing may contain several objects; compare them before answering.",
    "Use the visual information in the image to decide.",
    "Some objects are close to each other and some are far apart.",
    "The marks are drawn on top of the picture and do not change the surface under them.",
    "Numbers should be written with digits.",
    "Read the question and then look at the image again.",
    "Different images can show the same kind of object in a different colour or size.",
    "The background colour is not important unless the question asks about it.",
)


def with_choices(rng, question: str, options: list[str]) -> str:
    """The question and its options in one of the corpus's own formats (header or none, letter
    style, instruction or none); each option starts a line."""
    header = pick(rng, ("Options:", "Choices:", "Pick one:", "Possible answers:", ""))
    style = pick(rng, ("({L}) {t}", "({L}) {t}", "{L}. {t}", "{L}) {t}"))
    lines = [style.format(L=LETTERS[i], t=t) for i, t in enumerate(options)]
    tail = pick(rng, ("", "", "Answer with the letter.", "Reply with one letter.", "Give the letter of your choice."))
    text = "\n".join(lines + ([tail] if tail else []))
    return f"{question}{pick(rng, (chr(10), ' '))}{header}\n{text}" if header else f"{question}\n{text}"


def choice_question(rng, question: str, correct: str, wrong: list[str]) -> tuple[str, str]:
    """(question with its choice list, gold letter): the correct option at a random position; or,
    for OPEN_SHARE of the questions, the question asking for the answer itself in words.

    The open variant grounds names (colours, shapes, letters, places) in pixels directly: with
    letter answers only, a tiny model from scratch must learn to see and to find the matching
    option at once, and version 1 of this corpus learned neither in 1,000 steps."""
    if rng.random() < OPEN_SHARE:
        return f"{question}\n{pick(rng, OPEN_INSTRUCTIONS)}", correct
    options = list(wrong)
    gold = int(rng.integers(len(options) + 1))
    options.insert(gold, correct)
    return with_choices(rng, question, options), LETTERS[gold]


def n_wrong(rng) -> int:
    """Wrong options of a choice question: 2, 3 or 4 options, four more often (as in most tasks)."""
    return pick(rng, (1, 2, 3, 3))


def count_question(rng, what: str) -> str:
    q = pick(
        rng,
        (
            f"How many {what} are in the picture?",
            f"Count the {what} in the image.",
            f"How many {what} can you see?",
            f"What is the number of {what} shown?",
        ),
    )
    tail = pick(rng, ("", "Reply with a number.", "Give the count as a number.", "Answer with digits only."))
    return f"{q}\n{tail}" if tail else q
