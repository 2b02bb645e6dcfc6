"""BLINK-5 (counting, IQ test, jigsaw, relative reflectance, spatial relation) in LVR's form, a Table 4 benchmark."""

from livr.data.specs import Benchmark

SPEC = Benchmark(
    name="blink5",
    order=6,
    images=3,
    sources=("blink",),
    hub_sources=("blink",),
    builder="livr.data.benchmarks.blink_subsets:build_blink5",
    defaults="livr.data.benchmarks.blink_subsets:BLINK5_DEFAULTS",
    standin="lvr",
    standin_subtasks=("Counting", "IQ_Test", "Jigsaw", "Relative_Reflectance", "Spatial_Relation"),
    scorer="lvr_letter",
    aggregate="size_weighted",
    paper_column="BLINK-5",
)
