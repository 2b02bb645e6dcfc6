"""The paper's nine tasks: one module per task, each defining `SPEC = TaskSpec(...)`."""
