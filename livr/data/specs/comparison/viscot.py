"""LVR's Visual-CoT training set (free-text short answers): Table 4's training set (Qwen2.5-VL-7B)."""

from livr.data.specs import TrainingSet

SPEC = TrainingSet(
    name="viscot",
    order=7,
    images=1,
    sources=("visual_cot",),
    hub_sources=("visual_cot",),
    builder="livr.data.benchmarks.visual_cot:build",
    defaults="livr.data.benchmarks.visual_cot:DEFAULTS",
    standin="free_text",
    free_text=True,
    carries=("boxes",),
    paper="Table 4: Qwen2.5-VL-7B on LVR's Visual-CoT training set",
)
