"""RoboSpatial-Home (configuration, compatibility; yes/no questions), a Table 3 benchmark."""

from livr.data.specs import Benchmark

SPEC = Benchmark(
    name="robospatial_home",
    order=3,
    images=1,
    sources=("robospatial_home",),
    hub_sources=("robospatial_home",),
    builder="livr.data.benchmarks.robospatial_home:build",
    defaults="livr.data.benchmarks.robospatial_home:DEFAULTS",
    standin="yes_no",
    standin_subtasks=("configuration", "compatibility"),
    scorer="vigorl_option_text",
    aggregate="micro",
    paper_column="RoboSpatial",
)
