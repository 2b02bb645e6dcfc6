"""Jigsaw: which of two patches fills the first image's missing lower-right corner (COCO)."""

from livr.data.specs import TaskSpec

SPEC = TaskSpec(
    name="jigsaw",
    order=1,
    images=3,
    body=(
        "Given the first image with the lower right corner missing, can you tell which one of the "
        "second image or the third image is the missing part? Imagine which image would be more "
        "appropriate to place in the missing spot. You can also carefully observe and compare the "
        "edges of the images."
    ),
    choices=("the second image", "the third image"),
    blink_subtask="Jigsaw",
    sources=("coco2017", "blink"),
    hub_sources=("blink",),
    builder="livr.data.tasks.jigsaw:build",
    builder_defaults="livr.data.tasks.jigsaw:DEFAULTS",
    generator="livr.data.synthetic.jigsaw:generate",
)
