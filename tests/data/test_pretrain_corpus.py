"""The pretraining corpus: deterministic, answers that the pixels and the listed options support,
and none of the nine tasks' wording."""

import collections
import re

import numpy as np

from livr.data import pretrain_corpus as pc
from livr.data.pretrain_corpus.scenes import COLOUR_NAMES
from livr.data.pretrain_corpus.wording import OPEN_INSTRUCTIONS
from livr.data.prompts import format_question
from livr.data.registry import TASK_SPECS
from livr.data.synthetic.drawing import SHAPES

N = 700
EXAMPLES = [pc.example(3, i) for i in range(N)]
OPTION = re.compile(r"^(?:\(([A-D])\)|([A-D])\.|([A-D])\)) ", re.M)


def _letters(question: str) -> list[str]:
    return ["".join(g) for g in OPTION.findall(question)]


def test_deterministic_and_seeded():
    again = pc.example(3, 5)
    assert (again.family, again.question, again.answer) == (
        EXAMPLES[5].family,
        EXAMPLES[5].question,
        EXAMPLES[5].answer,
    )
    assert [np.asarray(a).tobytes() for a in again.images] == [np.asarray(a).tobytes() for a in EXAMPLES[5].images]
    other = [pc.example(4, i) for i in range(20)]
    assert sum(o.question != e.question or o.answer != e.answer for o, e in zip(other, EXAMPLES)) >= 15


def test_every_family_occurs_and_answers_fit_the_question():
    families = collections.Counter(e.family for e in EXAMPLES)
    assert set(families) == set(pc.FAMILY_NAMES)
    opened = 0
    for e in EXAMPLES:
        assert 1 <= len(e.images) <= 3 and all(im.size == (112, 112) and im.mode == "RGB" for im in e.images)
        letters = _letters(e.question)
        if e.family == "counting":
            assert not letters and e.answer.isdigit() and 1 <= int(e.answer) <= 10
        elif e.family in ("describe", "name_two"):
            names = e.answer.split(", ")
            assert not letters and 1 <= len(names) <= 4
            assert all(
                n.split(" ")[-1] in SHAPES and " ".join(n.split(" ")[:-1]) in COLOUR_NAMES.values() for n in names
            )
        elif letters:
            assert letters == list("ABCD"[: len(letters)]) and 2 <= len(letters) <= 4, e.question
            assert e.answer in letters, (e.question, e.answer)
        else:  # the open variant: the answer in words, asked for in words
            assert e.question.endswith(OPEN_INSTRUCTIONS) and (e.answer not in "ABCD" or e.family == "read_letter"), (
                e.question
            )
            opened += 1
    assert 0.2 < opened / len(EXAMPLES) < 0.5
    gold = collections.Counter(e.answer for e in EXAMPLES if _letters(e.question))
    total = sum(gold.values())  # the gold position is not fixed: every letter is gold, A and B often
    assert set(gold) == set("ABCD") and gold["A"] / total > 0.25 and gold["B"] / total > 0.25


def test_brightness_answers_from_pixels():
    seen = 0
    for e in EXAMPLES:
        if e.family != "brightness":
            continue
        options = dict(re.findall(r"([A-D])\W+ ?((?:the |left|right|top|bottom)[a-z ]*?)\s*$", e.question, re.M))
        option = options[e.answer] if options else e.answer  # open variant: the answer itself
        arrays = [np.asarray(im, np.float64).mean(axis=2) for im in e.images]
        if len(arrays) == 2:
            means = [a.mean() for a in arrays]
            names = ["the first image", "the second image"]
        else:
            a, h = arrays[0], arrays[0].shape[0] // 2
            means, names = (
                ([a[:, :h].mean(), a[:, h:].mean()], ["left half", "right half"])
                if option.split()[0] in ("left", "right")
                else ([a[:h].mean(), a[h:].mean()], ["top half", "bottom half"])
            )
        want = names[int(np.argmax(means))] if "brighter" in e.question else names[int(np.argmin(means))]
        assert option == want, (e.question, e.answer)
        seen += 1
    assert seen >= 20


def test_none_of_the_tasks_wording():
    blink = [format_question(t, list(spec.choices)) for t, spec in TASK_SPECS.items()]
    sentences = {
        s.strip()
        for body in (spec.body for spec in TASK_SPECS.values())
        for s in re.split(r"(?<=[.?])\s", body)
        if len(s.strip()) > 25
    }
    for e in EXAMPLES:
        assert "Select from the following" not in e.question
        assert "Answer with a single number." not in e.question
        assert not any(s in e.question for s in sentences), e.question
        assert e.question not in blink
