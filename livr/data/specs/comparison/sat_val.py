"""SAT Val: ViGoRL's 1k SAT-2 validation file, a Table 3 benchmark."""

from livr.data.specs import Benchmark

SPEC = Benchmark(
    name="sat_val",
    order=1,
    images=2,
    sources=("vigorl",),
    hub_sources=("vigorl",),
    builder="livr.data.benchmarks.sat:build_test",
    defaults="livr.data.benchmarks.sat:TEST_DEFAULTS",
    standin="vigorl",
    scorer="vigorl_option_text",
    aggregate="micro",
    paper_column="SAT Val",
)
