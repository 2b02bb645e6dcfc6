# Data and models: tiny offline backbones, synthetic tasks, public downloads, paper task builders,
# the comparison experiments' training sets and benchmarks (and their offline stand-ins).
# These outputs do not depend on the experiment's training settings, so they live outside the
# experiment-named directories and are shared (logs and timings under `shared/`).


# Downloads need the internet, which cluster compute nodes often lack: they run where snakemake runs.
localrules:
    download,


rule build_tiny:
    """A tiny random-weight backbone of a real architecture, built offline from its config."""
    output:
        directory(L.model_dir("{backbone}")),
    log:
        L.log("shared", "build_tiny", "{backbone}"),
    benchmark:
        L.timing("shared", "build_tiny", "{backbone}")
    wildcard_constraints:
        backbone=tiny_backbone_names(),
    threads: 1
    shell:
        "livr build-tiny --backbone {wildcards.backbone} --out {output} > {log} 2>&1"


rule pretrain_tiny:
    """On request only (nothing depends on it): rebuild a shipped pretrained tiny base with the
    command in its manifest, into models/pretrained/<backbone> (about an hour on 2 CPU cores).
    `snakemake --cores all models/pretrained/tiny-qwen2.5-vl-pretrained`"""
    output:
        directory(L.pretrained_rebuild("{backbone}")),
    log:
        L.log("shared", "pretrain_tiny", "{backbone}"),
    benchmark:
        L.timing("shared", "pretrain_tiny", "{backbone}")
    wildcard_constraints:
        backbone=pretrained_backbone_names(),
    threads: 2
    params:
        command=lambda wildcards, output: rebuild_command(wildcards.backbone, output[0]),
    shell:
        "{params.command} > {log} 2>&1"


rule synth:
    """An offline procedurally generated task (its size and seed: params.yaml `synthetic:`, as
    overridden by the selected experiment)."""
    output:
        directory(L.task_dir("synthetic", "{exp}", "{task}")),
    log:
        L.log("{exp}", "synth", "{task}"),
    benchmark:
        L.timing("{exp}", "synth", "{task}")
    wildcard_constraints:
        task=nine_task_names(),
    threads: 1
    params:
        cfg=synth_settings,
    shell:
        "livr data synth --task {wildcards.task} --out {output}"
        " --n-train {params.cfg[n_train]} --n-val {params.cfg[n_val]} --n-test {params.cfg[n_test]}"
        " --seed {params.cfg[seed]} --image-size {params.cfg[image_size]} > {log} 2>&1"


rule download:
    """One public source into data/raw/<source>/ (resumable; manifest.json is written last, so
    only the manifest is declared: a killed download keeps its partial files and resumes)."""
    output:
        L.raw_manifest("{source}"),
    log:
        L.log("shared", "download", "{source}"),
    benchmark:
        L.timing("shared", "download", "{source}")
    threads: 1
    params:
        settings=source_settings,
        params_file=PARAMS_FILE,
        raw_dir=lambda wildcards, output: str(Path(output[0]).parent.parent),  # data/raw
    shell:
        "livr data download --source {wildcards.source} --raw-dir {params.raw_dir}"
        " --params {params.params_file} > {log} 2>&1"


rule build_task:
    """A paper task (Appendix A) from its public sources (the builder module's SOURCES)."""
    input:
        task_raw_manifests,
    output:
        directory(L.task_dir("paper", "{exp}", "{task}")),
    log:
        L.log("shared", "build_task", "{task}"),
    benchmark:
        L.timing("shared", "build_task", "{task}")
    wildcard_constraints:
        task=nine_task_names(),
    threads: 1
    params:
        settings=build_settings,
        params_file=PARAMS_FILE,
        raw_root=L.raw_root(),
    shell:
        "livr data build --task {wildcards.task} --raw-root {params.raw_root} --out {output}"
        " --params {params.params_file} > {log} 2>&1"


rule synth_comparison:
    """An offline stand-in of a comparison training set or benchmark (livr/data/standins.py), sized
    and seeded as the experiment's synthetic tasks (a training set gets train + val, a benchmark test)."""
    output:
        directory(L.comparison_dir("synthetic", "{exp}", "{name}")),
    log:
        L.log("{exp}", "synth_comparison", "{name}"),
    benchmark:
        L.timing("{exp}", "synth_comparison", "{name}")
    threads: 1
    params:
        cfg=synth_settings,
    shell:
        "livr data synth-comparison --name {wildcards.name} --out {output}"
        " --n-train {params.cfg[n_train]} --n-val {params.cfg[n_val]} --n-test {params.cfg[n_test]}"
        " --seed {params.cfg[seed]} --image-size {params.cfg[image_size]} > {log} 2>&1"


rule build_comparison:
    """A comparison training set or evaluation-only benchmark (livr/data/benchmarks) from its public
    sources, with params.yaml `paper_data.<name>`."""
    input:
        comparison_raw_manifests,
    output:
        directory(L.comparison_dir("paper", "{exp}", "{name}")),
    log:
        L.log("shared", "build_comparison", "{name}"),
    benchmark:
        L.timing("shared", "build_comparison", "{name}")
    threads: 1
    params:
        settings=comparison_build_settings,
        params_file=PARAMS_FILE,
        raw_root=L.raw_root(),
    shell:
        "livr data build-comparison --name {wildcards.name} --raw-root {params.raw_root} --out {output}"
        " --params {params.params_file} > {log} 2>&1"
