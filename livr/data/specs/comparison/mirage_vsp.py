"""Mirage's VSP spatial planning (frozen-lake maps, a boxed plan as free text): the Mirage comparison's training set."""

from livr.data.specs import TrainingSet

SPEC = TrainingSet(
    name="mirage_vsp",
    order=8,
    images=1,
    sources=("mirage",),
    builder="livr.data.benchmarks.mirage_vsp:build_train",
    defaults="livr.data.benchmarks.mirage_vsp:TRAIN_DEFAULTS",
    standin="mirage",
    free_text=True,
    carries=("helper_image",),
    paper="Mirage comparison: VSP spatial planning",
)
