# Data and models: tiny offline backbones, synthetic tasks, public downloads, paper task builders.
# These outputs do not depend on the experiment's training settings, so they live outside the
# experiment-named directories and are shared (logs/benchmarks under `shared/`).

# Downloads need the internet, which cluster compute nodes often lack: they run where snakemake runs.
localrules: download


rule build_tiny:
    """A tiny random-weight backbone of a real architecture, built offline from its config."""
    output:
        directory(f"{MODELS}/{{backbone}}"),
    wildcard_constraints:
        backbone=_one_of([b for b, spec in REGISTRY.items() if spec.tiny]),
    log:
        "logs/shared/build_tiny/{backbone}.log",
    benchmark:
        "benchmarks/shared/build_tiny/{backbone}.tsv"
    threads: 1
    shell:
        "livr build-tiny --backbone {wildcards.backbone} --out {output} > {log} 2>&1"


rule synth:
    """An offline procedurally generated task (its size and seed: params.yaml `synthetic:`, as
    overridden by the selected experiment)."""
    output:
        directory(f"{DATA}/built/synthetic/{{exp}}/{{task}}"),
    params:
        settings=lambda wildcards: jobs.settings_json(jobs.lc.synthetic_config(config, wildcards.exp)),
        cfg=lambda wildcards: jobs.lc.synthetic_config(config, wildcards.exp),
    log:
        "logs/{exp}/synth/{task}.log",
    benchmark:
        "benchmarks/{exp}/synth/{task}.tsv"
    threads: 1
    shell:
        "livr data synth --task {wildcards.task} --out {output}"
        " --n-train {params.cfg[n_train]} --n-val {params.cfg[n_val]} --n-test {params.cfg[n_test]}"
        " --seed {params.cfg[seed]} --image-size {params.cfg[image_size]} > {log} 2>&1"


rule download:
    """One public source into data/raw/<source>/ (resumable; manifest.json is written last, so
    only the manifest is declared: a killed download keeps its partial files and resumes)."""
    output:
        f"{DATA}/raw/{{source}}/manifest.json",
    params:
        settings=lambda wildcards: jobs.settings_json((config.get("sources") or {}).get(wildcards.source, {})),
        params_file=PARAMS_FILE,
    log:
        "logs/shared/download/{source}.log",
    benchmark:
        "benchmarks/shared/download/{source}.tsv"
    threads: 1
    shell:
        "livr data download --source {wildcards.source} --raw-dir {DATA}/raw"
        " --params {params.params_file} > {log} 2>&1"


rule build_task:
    """A paper task (Appendix A) from its public sources (the builder module's SOURCES)."""
    input:
        lambda wildcards: [jobs.raw_manifest(config, s) for s in jobs.task_sources(wildcards.task)],
    output:
        directory(f"{DATA}/built/paper/{{task}}"),
    params:
        settings=lambda wildcards: jobs.settings_json(jobs.paper_data_settings(config, wildcards.task)),
        params_file=PARAMS_FILE,
    log:
        "logs/shared/build_task/{task}.log",
    benchmark:
        "benchmarks/shared/build_task/{task}.tsv"
    threads: 1
    shell:
        "livr data build --task {wildcards.task} --raw-root {DATA}/raw --out {output}"
        " --params {params.params_file} > {log} 2>&1"
