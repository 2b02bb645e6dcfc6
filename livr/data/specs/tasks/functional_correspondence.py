"""Functional correspondence: the point serving the reference point's function for an action (FunKPoint)."""

from livr.data.specs import TaskSpec

SPEC = TaskSpec(
    name="functional_correspondence",
    order=6,
    images=2,
    body=(
        "Humans can find corresponding points for the same action between different objects. For "
        'instance, if a person uses a pot versus a hammer to "Mash Pound", then the handle of the '
        "pot will be the corresponding point to the handle of the hammer because they serve the same "
        "function for the action -- to hold; and the bottom of the pot will be the corresponding "
        "point to the face of the hammer because they both mash the other object.\n"
        "Given the following two images, a reference point is annotated on the first image, labeled "
        'with REF. You are given multiple red-circled points on the second image, choices of "A, B, '
        'C, D" are drawn beside each circle. Select between the choices on the second image and find '
        "the corresponding point for the reference point, if we use both objects for the action "
        '"{action}". Which point is corresponding to the reference point?'
    ),
    choices=("Point A", "Point B", "Point C", "Point D"),
    wording_verified=False,  # only the opening sentence and "the first image, labeled with REF." verified (LIVR A.7.2)
    blink_subtask="Functional_Correspondence",
    sources=("funkpoint",),
    builder="livr.data.tasks.functional_correspondence:build",
    builder_defaults="livr.data.tasks.functional_correspondence:DEFAULTS",
    generator="livr.data.synthetic.functional_correspondence:generate",
)
