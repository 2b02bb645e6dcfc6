"""Visual similarity: which of two images is most similar to the reference (NIGHTS)."""

from livr.data.specs import TaskSpec

SPEC = TaskSpec(
    name="visual_similarity",
    order=8,
    images=3,
    body=(
        "Given three similar but different images, take the first image as reference. Can you tell "
        "which one of the latter two images is most similar to the first one?"
    ),
    choices=("the second image", "the third image"),
    blink_subtask="Visual_Similarity",
    sources=("nights", "blink"),
    hub_sources=("blink",),
    builder="livr.data.tasks.visual_similarity:build",
    builder_defaults="livr.data.tasks.visual_similarity:DEFAULTS",
    generator="livr.data.synthetic.visual_similarity:generate",
)
