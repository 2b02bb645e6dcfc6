"""Semantic correspondence: the point matching a reference point on another object of the category (SPair-71k)."""

from livr.data.specs import TaskSpec

SPEC = TaskSpec(
    name="semantic_correspondence",
    order=5,
    images=2,
    body=(
        "Humans can find corresponding points for different objects in the same category. For "
        "instance, if there are images of two different cats, then the left ear tip of one cat "
        "corresponds to the left ear tip of the other cat, and the right front paw of one cat "
        "corresponds to the right front paw of the other cat.\n"
        "Given the following two images, a reference point is annotated on the first image, labeled "
        'with REF. You are given multiple red-circled points on the second image, choices of "A, B, '
        'C, D" are drawn beside each circle. Select between the choices on the second image and find '
        "the corresponding point for the reference point. Which point is corresponding to the "
        "reference point?"
    ),
    choices=("Point A", "Point B", "Point C", "Point D"),
    blink_subtask="Semantic_Correspondence",
    sources=("spair71k", "blink"),
    hub_sources=("blink",),
    builder="livr.data.tasks.semantic_correspondence:build",
    builder_defaults="livr.data.tasks.semantic_correspondence:DEFAULTS",
    generator="livr.data.synthetic.semantic_correspondence:generate",
)
