"""Counting: how many objects of one kind (PixMo-Count; open-ended, an integer answer)."""

from livr.data.specs import TaskSpec

SPEC = TaskSpec(
    name="counting",
    order=0,
    images=1,
    body="How many {object} are there?",
    choices=(),
    answer_range=(2, 10),  # the counts the paper trains and tests on
    wording_verified=False,  # open-ended variant of BLINK's "How many X are there?"
    blink_subtask="Counting",
    sources=("pixmo_count",),
    hub_sources=("pixmo_count",),
    builder="livr.data.tasks.counting:build",
    builder_defaults="livr.data.tasks.counting:DEFAULTS",
    generator="livr.data.synthetic.counting:generate",
)
