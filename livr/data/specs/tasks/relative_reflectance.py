"""Relative reflectance: which of two marked points has the darker albedo, or about the same (MID)."""

from livr.data.specs import TaskSpec

SPEC = TaskSpec(
    name="relative_reflectance",
    order=7,
    images=1,
    body=(
        "Two points are annotated on the image, labeled by A and B. Consider the surface color of "
        "the points (the albedo of the surface, without the effect of shading). Which point has "
        "darker surface color, or the colors is about the same?"
    ),
    choices=("A is darker", "B is darker", "About the same"),
    select=(" ", "choices"),
    blink_subtask="Relative_Reflectance",
    sources=("mid", "blink"),
    hub_sources=("blink",),
    builder="livr.data.tasks.relative_reflectance:build",
    builder_defaults="livr.data.tasks.relative_reflectance:DEFAULTS",
    generator="livr.data.synthetic.relative_reflectance:generate",
    synthetic_golds=tuple("AAABBBCC"),  # A/B/C in 3:3:2 ("about the same" ~ 1/4)
)
