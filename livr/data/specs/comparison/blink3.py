"""BLINK-3 (relative depth, multi-view reasoning, spatial relation) as ViGoRL's own evaluation file has it, a Table 3
benchmark; the `blink` source's val rows tell each row's subtask."""

from livr.data.specs import Benchmark

SPEC = Benchmark(
    name="blink3",
    order=2,
    images=2,
    sources=("vigorl", "blink"),
    hub_sources=("vigorl", "blink"),
    builder="livr.data.benchmarks.blink_subsets:build_blink3",
    defaults="livr.data.benchmarks.blink_subsets:BLINK3_DEFAULTS",
    standin="vigorl",
    standin_subtasks=("Relative_Depth", "Multi-view_Reasoning", "Spatial_Relation"),
    scorer="vigorl_option_text",
    aggregate="mean_of_subtasks",
    paper_column="BLINK-3",
)
