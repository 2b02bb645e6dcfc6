"""MMVP (question pairs, also scored per pair) in LVR's form, a Table 4 benchmark."""

from livr.data.specs import Benchmark

SPEC = Benchmark(
    name="mmvp",
    order=4,
    images=1,
    sources=("mmvp",),
    hub_sources=("mmvp",),
    builder="livr.data.benchmarks.mmvp:build",
    defaults="livr.data.benchmarks.mmvp:DEFAULTS",
    standin="mmvp",
    scorer="lvr_letter",
    aggregate="micro",
    paper_column="MMVP",
    extra_metrics=("pair_accuracy",),
)
