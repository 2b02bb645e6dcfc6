"""SAT-32k as ViGoRL released it: Table 3's training set (Qwen2.5-VL-3B)."""

from livr.data.specs import TrainingSet

SPEC = TrainingSet(
    name="sat32k",
    order=0,
    images=2,
    sources=("vigorl",),
    hub_sources=("vigorl",),
    builder="livr.data.benchmarks.sat:build_train",
    defaults="livr.data.benchmarks.sat:TRAIN_DEFAULTS",
    standin="vigorl",
    paper="Table 3: Qwen2.5-VL-3B on ViGoRL's SAT-32k",
)
