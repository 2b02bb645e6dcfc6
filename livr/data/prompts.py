"""Question text per task, in BLINK's own words, shared by the synthetic and real-data builders.

Each task's wording (body, option texts, "choices"/"options") is in its spec (livr/data/specs/tasks/).

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
  and marked as such in its spec's `wording_verified`;
- counting: BLINK's counting subtask is multiple choice, while the paper evaluates PixMo-Count
  open-ended, so the question is "How many {object} are there?" (BLINK/PixMo style) followed by a
  request for a single number.
"""

from __future__ import annotations

from livr.data.registry import task_spec
from livr.data.schema import LETTERS
from livr.errors import InputError

COUNTING_INSTRUCTION = "Answer with a single number."  # after the question of an open-ended task

DEFAULT_SLOTS = {"object": "objects", "action": "Hold"}


def format_question(task: str, choices: list[str], *, object_name: str | None = None, action: str | None = None) -> str:
    """Full question text for `task`, with `choices` listed as BLINK lists them.

    Slots: `object_name` names the counted objects (counting, plural, default "objects") or the boxed
    object (localization, default "object"); `action` is the action for functional correspondence
    (default "Hold"). Counting takes no choices and asks for a number.
    """
    spec = task_spec(task)
    if spec.open_ended:
        if choices:
            raise InputError(f"{task} is open-ended: pass choices=[]")
        return f"{spec.body.format(object=object_name or DEFAULT_SLOTS['object'])}\n{COUNTING_INSTRUCTION}"
    if not choices:
        raise InputError(f"task {task!r} is multiple choice: choices must not be empty")
    if len(choices) > len(LETTERS):
        raise InputError(f"at most {len(LETTERS)} choices are supported, got {len(choices)}")
    default_obj = "object"
    body = spec.body.format(object=object_name or default_obj, action=action or DEFAULT_SLOTS["action"])
    sep, word = spec.select
    lines = [f"({LETTERS[i]}) {c}" for i, c in enumerate(choices)]
    return f"{body}{sep}Select from the following {word}.\n" + "\n".join(lines)
