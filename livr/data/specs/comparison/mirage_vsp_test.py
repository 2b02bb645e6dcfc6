"""Mirage's VSP test maps, scored by simulating the plan: the Mirage comparison's benchmark."""

from livr.data.specs import Benchmark

SPEC = Benchmark(
    name="mirage_vsp_test",
    order=9,
    images=1,
    sources=("mirage",),
    task="mirage_vsp",
    builder="livr.data.benchmarks.mirage_vsp:build_test",
    defaults="livr.data.benchmarks.mirage_vsp:TEST_DEFAULTS",
    standin="mirage",
    free_text=True,
    scorer="mirage_vsp",
    aggregate="micro",
    paper_column="VSP",
)
