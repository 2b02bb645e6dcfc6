"""Object localization: which of two boxes encloses the named object better (COCO)."""

from livr.data.specs import TaskSpec

SPEC = TaskSpec(
    name="localization",
    order=2,
    images=1,
    body=(
        "A bounding box is an annotated rectangle surrounding an object. The edges of bounding boxes "
        "should touch the outermost pixels of the object that is being labeled. Given the two "
        "bounding boxes on the image, labeled by A and B, which bounding box more accurately "
        "localizes and encloses the {object}?"
    ),
    choices=("Box A", "Box B"),
    select=(" ", "options"),
    blink_subtask="Object_Localization",
    sources=("coco2017", "blink"),
    hub_sources=("blink",),
    builder="livr.data.tasks.localization:build",
    builder_defaults="livr.data.tasks.localization:DEFAULTS",
    generator="livr.data.synthetic.localization:generate",
)
