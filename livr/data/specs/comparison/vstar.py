"""V* (direct attributes, relative position) in LVR's form, a Table 4 benchmark."""

from livr.data.specs import Benchmark

SPEC = Benchmark(
    name="vstar",
    order=5,
    images=1,
    sources=("vstar",),
    hub_sources=("vstar",),
    builder="livr.data.benchmarks.vstar:build",
    defaults="livr.data.benchmarks.vstar:DEFAULTS",
    standin="vstar",
    standin_subtasks=("direct_attributes", "relative_position"),
    scorer="lvr_letter",
    aggregate="micro",
    paper_column="V*",
)
