"""A generic, procedurally generated instruction corpus for pretraining the tiny backbones.

What a real VLM brings to the paper's fine-tuning is that it already sees (colours, shapes,
positions, counts, drawn letters, marks, brightness, textures, several images at once) and answers
a multiple-choice question with a letter and a count with a number. This corpus teaches a tiny
model exactly that, and nothing of the nine tasks: its own generators (scenes, glyphs, patterns),
its own question and choice templates (never BLINK's "Select from the following choices."), its own
seed space (streams keyed by CORPUS_TAG), so zero-shot on the demo tasks is a real zero-shot.

Question families (one function each; `FAMILIES`): colour of a shape, shape of a colour, counting,
position in the image, left/right/above/below relations, size comparison, which labelled point is on
an object, colour under a labelled point, reading a drawn letter, which image contains something,
which image shows more shapes, which of two candidates matches a first image's shape or colour,
which half or which image is brighter, naming a texture. Choice answers are letters (2-4 choices,
the gold position balanced by the seed), counts are integers. Marks use the synthetic world's
convention (coloured rings A red, B blue, C green, D yellow; `livr.data.synthetic.drawing`).

Modules, by what they do: scenes.py draws the scenes; wording.py holds the corpus's own question
and choice wording; one_image.py and several_images.py are the question families; this one
versions the corpus, registers the families and draws example i.

Examples are generated on the fly: example i of seed s is a pure function of (s, i), so a
pretraining run is reproducible and resumes mid-stream without storing the corpus.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from PIL import Image

from livr.data.pretrain_corpus.one_image import (
    colour_of_shape,
    colour_under_point,
    counting,
    describe,
    name_colour,
    name_shape,
    name_two,
    point_on_object,
    position,
    read_letter,
    relation,
    shape_of_colour,
    size_compare,
    texture,
)
from livr.data.pretrain_corpus.several_images import brightness, match_first, more_shapes, which_image_contains
from livr.data.pretrain_corpus.wording import PREAMBLE
from livr.data.synthetic.sampling import pick

# 3: basic families for a curriculum's first phase; 2: open-answer variants and the describe family
# (1 learned no names in 1,000 steps)
CORPUS_VERSION = 3
CORPUS_TAG = 0x9E7A11  # first entry of every corpus stream's seed: disjoint from the tasks' streams


@dataclasses.dataclass
class CorpusExample:
    family: str
    images: list[Image.Image]
    question: str
    answer: str


# The first phase of a curriculum (`example(..., basic=True)`): naming what one sees, open answers,
# no lead-in text; a tiny model from scratch learns these in a few hundred steps, and the full mix
# only after it can see.
BASIC_FAMILIES = {"name_colour": name_colour, "name_shape": name_shape, "name_two": name_two}
FAMILIES = {
    **BASIC_FAMILIES,  # kept in the full mix, so naming is not forgotten
    "describe": describe,
    "colour_of_shape": colour_of_shape,
    "shape_of_colour": shape_of_colour,
    "counting": counting,
    "position": position,
    "relation": relation,
    "size_compare": size_compare,
    "point_on_object": point_on_object,
    "colour_under_point": colour_under_point,
    "read_letter": read_letter,
    "which_image_contains": which_image_contains,
    "more_shapes": more_shapes,
    "match_first": match_first,
    "brightness": brightness,
    "texture": texture,
}
FAMILY_NAMES = tuple(FAMILIES)


def example(seed: int, index: int, image_size: int = 112, basic: bool = False) -> CorpusExample:
    """Example `index` of the corpus with `seed`: a pure function of the three (families drawn
    uniformly; `basic`: from BASIC_FAMILIES, without lead-in text)."""
    rng = np.random.default_rng(np.random.SeedSequence([CORPUS_TAG, CORPUS_VERSION, seed, index, int(basic)]))
    if basic:
        family = pick(rng, tuple(BASIC_FAMILIES))
        images, question, answer = BASIC_FAMILIES[family](rng, image_size)
        return CorpusExample(family, images, question, answer)
    family = pick(rng, FAMILY_NAMES)
    images, question, answer = FAMILIES[family](rng, image_size)
    if rng.random() < 0.35:
        lead = pick(rng, PREAMBLE, int(rng.integers(1, 9)))
        question = " ".join(lead) + pick(rng, ("\n", " ")) + question
    if rng.random() < 0.5:  # both spellings, as in real questions
        question = question.replace("colour", "color").replace("labelled", "labeled")
    return CorpusExample(family, images, question, answer)
