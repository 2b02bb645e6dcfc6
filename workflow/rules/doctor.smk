# Preflight: `livr doctor` checks, in seconds, everything the GPU jobs of an experiment need
# (weights cached or hub reachable, the remote-code opt-in, each source downloaded, reachable or
# its manual step done, GPUs against the memory estimate, free disk) and writes its stamp only when
# nothing is missing. The train and evaluate jobs of real backbones take the stamp as an ancient()
# input (common.smk doctor_gate): they wait for the preflight, yet rerunning it (its params
# changed) reruns none of them. Under a cluster executor the jobs' GPUs are not on this host: the
# SLURM profile sets the rule's `gpu_check` resource to "cluster", and the doctor then reports each
# backbone's GPU need instead of checking it. A failing preflight prints its table (the log) into
# Snakemake's output.


localrules:
    doctor,


rule doctor:
    output:
        L.result_file("{exp}", jobs.DOCTOR),
    log:
        L.log("{exp}", "doctor", "doctor"),
    priority: 1000
    threads: 1
    resources:
        gpu_check="local",  # the SLURM profile sets "cluster" (set-resources: doctor)
    params:
        settings=per_job(jobs.doctor_settings),
        params_file=PARAMS_FILE,
    shell:
        "livr doctor --params {params.params_file} --experiment {wildcards.exp} --gpus {resources.gpu_check}"
        " --stamp {output} > {log} 2>&1 || (cat {log} >&2; exit 1)"
