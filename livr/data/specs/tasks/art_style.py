"""Art style: which of two paintings shares the reference painting's style (ArtBench-10)."""

from livr.data.specs import TaskSpec

SPEC = TaskSpec(
    name="art_style",
    order=4,
    images=3,
    body=(
        "Some most common art painting styles include Realism, Impressionism, Expressionism, Pop "
        "Art, and Cubism. Given the following images of art paintings, use the first image as the "
        "reference image, and determine which one of the second or the third image shares the same "
        "style as the reference image?"
    ),
    choices=("the second image", "the third image"),
    blink_subtask="Art_Style",
    sources=("artbench10", "blink"),
    hub_sources=("blink",),
    builder="livr.data.tasks.art_style:build",
    builder_defaults="livr.data.tasks.art_style:DEFAULTS",
    generator="livr.data.synthetic.art_style:generate",
)
