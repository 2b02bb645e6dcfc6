"""Visual correspondence: the point matching a reference point across a view or lighting change (HPatches)."""

from livr.data.specs import TaskSpec

SPEC = TaskSpec(
    name="visual_correspondence",
    order=3,
    images=2,
    body=(
        "A point is circled on the first image, labeled with REF. We change the camera position or "
        "lighting and shoot the second image. You are given multiple red-circled points on the "
        'second image, choices of "A, B, C, D" are drawn beside each circle. Which point on the '
        "second image corresponds to the point in the first image?"
    ),
    choices=("Point A", "Point B", "Point C", "Point D"),
    select=(" ", "options"),
    blink_subtask="Visual_Correspondence",
    sources=("hpatches",),
    builder="livr.data.tasks.visual_correspondence:build",
    builder_defaults="livr.data.tasks.visual_correspondence:DEFAULTS",
    generator="livr.data.synthetic.visual_correspondence:generate",
)
