"""The question wording of the comparison benchmarks: each method's own, because the paper's
other rows were produced with it.

- `vigorl`: ViGoRL's SAT-2 prompt ("Question: ...\\nAnswer Choices:\\nA. x\\nB. y\\nAnswer with
  the text of the option.", as its RL files hold it, see livr/data/sources/vigorl.py). SAT and
  BLINK-3 rows keep ViGoRL's own text (BLINK-3 comes from ViGoRL's blink_validation.jsonl); this
  form words the offline stand-ins and BLINK-5 when paper_data.blink5.prompt is `vigorl`.
- `lvr`: LVR's evaluation (VincentLeebang/lvr evaluation/evaluation.py): BLINK's `question` +
  "\\nOptions:\\n" + one "A. choice\\n" line per choice + the instruction; MMVP's Question +
  "\\nOptions:\\n" + its Options with "(a)"/"(b)" turned into "A."/"B." + the instruction; V*'s
  `text` (which already ends with the instruction) + the instruction again, exactly as LVR does.
"""

from __future__ import annotations

from livr.data.schema import LETTERS

LVR_INSTRUCTION = "\nAnswer with the option's letter from the given choices directly."
VIGORL_INSTRUCTION = "Answer with the text of the option."


def vigorl_choices(question: str, choices: list[str]) -> str:
    lines = "\n".join(f"{LETTERS[i]}. {c}" for i, c in enumerate(choices))
    return f"Question: {question}\nAnswer Choices:\n{lines}\n{VIGORL_INSTRUCTION}"


def lvr_blink(question: str, choices: list[str]) -> str:
    options = "".join(f"{LETTERS[i]}. {c}\n" for i, c in enumerate(choices))
    return question + "\nOptions:\n" + options + LVR_INSTRUCTION


def lvr_mmvp(question: str, options: str) -> str:
    return question + "\nOptions:\n" + options.replace("(a)", "A.").replace("(b)", "B.") + LVR_INSTRUCTION


def lvr_vstar(text: str) -> str:
    return text + LVR_INSTRUCTION


STYLES = {"vigorl": vigorl_choices, "lvr": lvr_blink}
