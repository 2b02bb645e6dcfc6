"""Question wording per task, in BLINK's own words, shared by the synthetic and real-data builders.

The paper (Appendix A) reuses BLINK's prompt for each subtask; the gold answer is a bare letter
(or an integer for counting). BLINK's `prompt` field is the question body, a separator, the line
"Select from the following choices." (some subtasks say "options") and one "(X) text" line per
choice. `format_question` rebuilds exactly that shape.

Provenance of the wording (looked up in public copies of BLINK's prompts with the search tool):
- verbatim from dumps of the BLINK-Benchmark/BLINK `prompt` field: relative_reflectance,
  visual_correspondence, jigsaw, visual_similarity, art_style (its middle part was truncated in
  the dump we found; the painting-style list is BLINK's as we remember it), localization;
- semantic_correspondence: verbatim from a third-party copy of BLINK's prompt;
- functional_correspondence: only the opening sentence and the phrase "the first image, labeled
  with REF." could be verified (LIVR Appendix A.7.2); the rest is reconstructed in BLINK's style
  and marked as such in `WORDING_VERIFIED`;
- counting: BLINK's counting subtask is multiple choice, while the paper evaluates PixMo-Count
  open-ended, so the question is "How many {object} are there?" (BLINK/PixMo style) followed by a
  request for a single number.
"""

from __future__ import annotations

from livr.data.schema import LETTERS, TASKS
from livr.errors import InputError

# Hugging Face config name of each task in BLINK-Benchmark/BLINK (counting is evaluated on
# PixMo-Count in the paper, but BLINK has a Counting subtask of the same name).
BLINK_SUBTASK = {
    "counting": "Counting",
    "jigsaw": "Jigsaw",
    "localization": "Object_Localization",
    "visual_correspondence": "Visual_Correspondence",
    "art_style": "Art_Style",
    "semantic_correspondence": "Semantic_Correspondence",
    "functional_correspondence": "Functional_Correspondence",
    "relative_reflectance": "Relative_Reflectance",
    "visual_similarity": "Visual_Similarity",
}

# Fixed option texts where the real task has them (BLINK order; the answer letter indexes them).
CHOICE_TEXTS: dict[str, list[str]] = {
    "jigsaw": ["the second image", "the third image"],
    "localization": ["Box A", "Box B"],
    "visual_correspondence": ["Point A", "Point B", "Point C", "Point D"],
    "art_style": ["the second image", "the third image"],
    "semantic_correspondence": ["Point A", "Point B", "Point C", "Point D"],
    "functional_correspondence": ["Point A", "Point B", "Point C", "Point D"],
    "relative_reflectance": ["A is darker", "B is darker", "About the same"],
    "visual_similarity": ["the second image", "the third image"],
}

# Accuracy (percent) of guessing uniformly: 1/k for a k-way choice; counting's answers are 2..10.
CHANCE: dict[str, float] = {**{t: 100.0 / len(c) for t, c in CHOICE_TEXTS.items()}, "counting": 100.0 / 9}

_BODY = {
    "jigsaw": (
        "Given the first image with the lower right corner missing, can you tell which one of the "
        "second image or the third image is the missing part? Imagine which image would be more "
        "appropriate to place in the missing spot. You can also carefully observe and compare the "
        "edges of the images."
    ),
    "localization": (
        "A bounding box is an annotated rectangle surrounding an object. The edges of bounding boxes "
        "should touch the outermost pixels of the object that is being labeled. Given the two "
        "bounding boxes on the image, labeled by A and B, which bounding box more accurately "
        "localizes and encloses the {object}?"
    ),
    "visual_correspondence": (
        "A point is circled on the first image, labeled with REF. We change the camera position or "
        "lighting and shoot the second image. You are given multiple red-circled points on the "
        'second image, choices of "A, B, C, D" are drawn beside each circle. Which point on the '
        "second image corresponds to the point in the first image?"
    ),
    "art_style": (
        "Some most common art painting styles include Realism, Impressionism, Expressionism, Pop "
        "Art, and Cubism. Given the following images of art paintings, use the first image as the "
        "reference image, and determine which one of the second or the third image shares the same "
        "style as the reference image?"
    ),
    "semantic_correspondence": (
        "Humans can find corresponding points for different objects in the same category. For "
        "instance, if there are images of two different cats, then the left ear tip of one cat "
        "corresponds to the left ear tip of the other cat, and the right front paw of one cat "
        "corresponds to the right front paw of the other cat.\n"
        "Given the following two images, a reference point is annotated on the first image, "
        'labeled with REF. You are given multiple red-circled points on the second image, choices of '
        '"A, B, C, D" are drawn beside each circle. Select between the choices on the second image '
        "and find the corresponding point for the reference point. Which point is corresponding to "
        "the reference point?"
    ),
    "functional_correspondence": (
        "Humans can find corresponding points for the same action between different objects. For "
        'instance, if a person uses a pot versus a hammer to "Mash Pound", then the handle of the '
        "pot will be the corresponding point to the handle of the hammer because they serve the "
        "same function for the action -- to hold; and the bottom of the pot will be the "
        "corresponding point to the face of the hammer because they both mash the other object.\n"
        "Given the following two images, a reference point is annotated on the first image, "
        'labeled with REF. You are given multiple red-circled points on the second image, choices of '
        '"A, B, C, D" are drawn beside each circle. Select between the choices on the second image '
        "and find the corresponding point for the reference point, if we use both objects for the "
        'action "{action}". Which point is corresponding to the reference point?'
    ),
    "relative_reflectance": (
        "Two points are annotated on the image, labeled by A and B. Consider the surface color of "
        "the points (the albedo of the surface, without the effect of shading). Which point has "
        "darker surface color, or the colors is about the same?"
    ),
    "visual_similarity": (
        "Given three similar but different images, take the first image as reference. Can you tell "
        "which one of the latter two images is most similar to the first one?"
    ),
    "counting": "How many {object} are there?",
}

# (separator between body and the "Select ..." line, the word BLINK uses: choices/options)
_SELECT = {
    "jigsaw": ("\n", "choices"),
    "localization": (" ", "options"),
    "visual_correspondence": (" ", "options"),
    "art_style": ("\n", "choices"),
    "semantic_correspondence": ("\n", "choices"),
    "functional_correspondence": ("\n", "choices"),
    "relative_reflectance": (" ", "choices"),
    "visual_similarity": ("\n", "choices"),
}

# Whether the body text was checked against a copy of BLINK's prompt (see module docstring).
WORDING_VERIFIED = {
    "counting": False,  # open-ended variant of BLINK's "How many X are there?"
    "jigsaw": True,
    "localization": True,
    "visual_correspondence": True,
    "art_style": True,
    "semantic_correspondence": True,
    "functional_correspondence": False,
    "relative_reflectance": True,
    "visual_similarity": True,
}

COUNTING_INSTRUCTION = "Answer with a single number."

DEFAULT_SLOTS = {"object": "objects", "action": "Hold"}


def format_question(
    task: str, choices: list[str], *, object_name: str | None = None, action: str | None = None
) -> str:
    """Full question text for `task`, with `choices` listed as BLINK lists them.

    Slots: `object_name` names the counted objects (counting, plural, default "objects") or the boxed
    object (localization, default "object"); `action` is the action for functional correspondence
    (default "Hold"). Counting takes no choices and asks for a number.
    """
    if task not in TASKS:
        raise InputError(f"unknown task {task!r}; valid tasks: {', '.join(TASKS)}")
    if task == "counting":
        if choices:
            raise InputError("counting is open-ended: pass choices=[]")
        return f"{_BODY[task].format(object=object_name or DEFAULT_SLOTS['object'])}\n{COUNTING_INSTRUCTION}"
    if not choices:
        raise InputError(f"task {task!r} is multiple choice: choices must not be empty")
    if len(choices) > len(LETTERS):
        raise InputError(f"at most {len(LETTERS)} choices are supported, got {len(choices)}")
    default_obj = "object"
    body = _BODY[task].format(object=object_name or default_obj, action=action or DEFAULT_SLOTS["action"])
    sep, word = _SELECT[task]
    lines = [f"({LETTERS[i]}) {c}" for i, c in enumerate(choices)]
    return f"{body}{sep}Select from the following {word}.\n" + "\n".join(lines)
