"""Per-example scorers and aggregates of the comparison benchmarks, each reproducing the rule of
the work whose numbers the paper copies (so our rows are comparable with theirs).

Scorers take (model response, Record) and return (correct, parsed): `parsed` is what was read from
the response (None when nothing was). Rules and where they were read:

- `blink_letter`: this project's BLINK rule, livr/answers.py (exact letter, answer phrase, "(X)").
- `vigorl_option_text`: ViGoRL (Table 3's SAT / BLINK-3 / RoboSpatial rows). The prediction is the
  text between the first "<answer>" and the next "</answer>" when the response has an "<answer>"
  tag, else the whole response (Gabesarch/grounded-rl src/vlmsearch/tree_search/
  single_path_rollouts.py). Gold = the option's text. Both are lower-cased and stripped of the
  characters `Judge._remove_punctuation_spaces` removes (src/vlmsearch/reward_funcs/judge.py);
  correct iff gold == prediction or gold is a substring of it (`Judge._string_matching`).
- `lvr_letter`: LVR (Table 4's MMVP / V* / BLINK-5 rows), `accuracy_reward` of
  VincentLeebang/lvr evaluation/evaluation.py: the text after the last "<answer>" and before
  "</answer", stripped; its first space-separated word; its first character; equal to the gold
  letter (case-sensitive).
- `mirage_vsp`: Mirage (UMass-Embodied-AGI/Mirage src/test.py + src/task.py): the content of the
  last "\\boxed{...}" (mathruler.grader.extract_boxed_content, "None" when absent), every U/D/L/R
  character of it upper-cased is a move, simulated on the record's map (meta["map_desc"]: 1 start,
  2 goal, -1 hole, 0 ice); moves off the grid are ignored, a hole ends the episode as a failure;
  correct iff the final cell is the goal.

Aggregates (over {subtask: (n_correct, n)}): `micro` (all items pooled), `mean_of_subtasks`
(BLINK-3, as ViGoRL reports it), `size_weighted` (BLINK-5, LVR's pooled accuracy over 697 items;
equal to `micro`, kept as its own name because the paper states it so). MMVP adds `pair_accuracy`:
a pair of consecutive questions (1-2, 3-4, ...) counts only when both are right (MMVP's own metric).
"""

from __future__ import annotations

from collections.abc import Callable

from livr.answers import extract_letter
from livr.data.schema import LETTERS, Record
from livr.errors import InputError

# The characters ViGoRL's Judge._remove_punctuation_spaces deletes, in its order.
_VIGORL_REMOVED = ".?!,;:'\"()[]{}<>/\\|=+-_*&^%$#@`~ "


def vigorl_normalize(text: str) -> str:
    out = text.strip()
    for ch in _VIGORL_REMOVED:
        out = out.replace(ch, "")
    return out.strip().lower()


def vigorl_prediction(response: str) -> str:
    if "<answer>" in response:
        return response.split("<answer>")[1].strip().split("</answer>")[0].strip()
    return response


def option_text(record: Record) -> str:
    if not record.choices:
        raise InputError(f"record {record.id}: option-text scoring needs choices")
    return record.choices[LETTERS.index(record.answer)]


def vigorl_match(pred: str, gold_text: str) -> bool:
    """ViGoRL's verdict on a normalized prediction: the normalized option text equals or occurs in it."""
    gold = vigorl_normalize(gold_text.lower())
    return gold == pred or gold in pred


def vigorl_option_text(response: str, record: Record) -> tuple[bool, str]:
    pred = vigorl_normalize(vigorl_prediction(response or ""))
    return vigorl_match(pred, option_text(record)), pred


def lvr_letter(response: str, record: Record) -> tuple[bool, str]:
    given = (response or "").split("<answer>")[-1]
    given = given.split("</answer")[0].strip()
    if " " in given:
        given = given.split(" ")[0]
    if len(given) > 1:
        given = given[0]
    return given == record.answer, given


def blink_letter(response: str, record: Record) -> tuple[bool, str | None]:
    letter, _ = extract_letter(response, len(record.choices))
    return letter == record.answer, letter


def extract_boxed_content(text: str) -> str:
    """mathruler.grader.extract_boxed_content (mathruler 0.1.0): the last \\boxed{...} with nested
    braces, stripped; the string "None" when there is none."""
    start = text.rfind("\\boxed{")
    if start != -1:
        content, depth = text[start + len("\\boxed{") :], 0
        for i, ch in enumerate(content):
            depth += (ch == "{") - (ch == "}")
            if depth == -1:
                return content[:i].strip()
    return "None"


_MOVES = {"L": (0, -1), "D": (1, 0), "R": (0, 1), "U": (-1, 0)}


def simulate_vsp(map_desc: list[list[int]], plan: str) -> str:
    """Mirage's simulate_vsp: "Reached goal", "Fell in hole" or "Did not reach goal"."""
    starts = [(r, c) for r, row in enumerate(map_desc) for c, v in enumerate(row) if v == 1]
    if not starts:
        raise InputError(f"map {map_desc}: no start cell (value 1)")
    r, c = starts[0]
    for move in (ch for ch in plan.upper() if ch in _MOVES):
        dr, dc = _MOVES[move]
        nr, nc = r + dr, c + dc
        if not (0 <= nr < len(map_desc) and 0 <= nc < len(map_desc[0])):
            continue
        r, c = nr, nc
        if map_desc[r][c] == -1:
            return "Fell in hole"
    return "Reached goal" if map_desc[r][c] == 2 else "Did not reach goal"


def mirage_vsp(response: str, record: Record) -> tuple[bool, str]:
    plan = extract_boxed_content(response or "")
    if "map_desc" not in record.meta:
        raise InputError(f"record {record.id}: Mirage VSP scoring needs meta['map_desc']")
    return simulate_vsp(record.meta["map_desc"], plan) == "Reached goal", plan


SCORERS: dict[str, Callable[[str, Record], tuple[bool, object]]] = {
    "blink_letter": blink_letter,
    "vigorl_option_text": vigorl_option_text,
    "lvr_letter": lvr_letter,
    "mirage_vsp": mirage_vsp,
}


# ------------------------------------------------------------------------------------ aggregates
def _check(per_subtask: dict[str, tuple[int, int]]) -> None:
    if not per_subtask:
        raise InputError("no subtask results to aggregate")
    for name, (k, n) in per_subtask.items():
        if n <= 0 or not 0 <= k <= n:
            raise InputError(f"subtask {name!r}: {k} correct of {n} is not a valid count")


def micro(per_subtask: dict[str, tuple[int, int]]) -> float:
    _check(per_subtask)
    return 100.0 * sum(k for k, _ in per_subtask.values()) / sum(n for _, n in per_subtask.values())


def mean_of_subtasks(per_subtask: dict[str, tuple[int, int]]) -> float:
    _check(per_subtask)
    return 100.0 * sum(k / n for k, n in per_subtask.values()) / len(per_subtask)


def size_weighted(accuracy: dict[str, float], sizes: dict[str, int]) -> float:
    """Size-weighted mean of per-subtask accuracies (percent) with the subtasks' item counts."""
    if set(accuracy) != set(sizes) or not sizes:
        raise InputError(f"subtasks differ: accuracies for {sorted(accuracy)}, sizes for {sorted(sizes)}")
    return sum(accuracy[s] * sizes[s] for s in sizes) / sum(sizes.values())


AGGREGATES: dict[str, Callable[[dict[str, tuple[int, int]]], float]] = {
    "micro": micro,
    "mean_of_subtasks": mean_of_subtasks,
    "size_weighted": micro,
}


def pair_accuracy(correct_by_index: dict[int, bool]) -> float:
    """MMVP's per-pair accuracy: questions 2k-1 and 2k (1-based `Index`) must both be right."""
    if not correct_by_index or len(correct_by_index) % 2:
        raise InputError(f"MMVP pairs need an even number of questions, got {len(correct_by_index)}")
    pairs = {}
    for idx, ok in correct_by_index.items():
        pairs.setdefault((idx + 1) // 2, []).append(ok)
    bad = sorted(p for p, oks in pairs.items() if len(oks) != 2)
    if bad:
        raise InputError(f"MMVP pair(s) {bad[:5]} are incomplete; both questions of a pair must be scored")
    return 100.0 * sum(all(oks) for oks in pairs.values()) / len(pairs)
