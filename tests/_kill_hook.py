"""Run `livr ARGS...` with a SIGKILL planted at LIVR_TEST_KILL_AT (used by tests/test_faults.py).

A real SIGKILL of the whole process, so no `finally`, atexit or signal handler runs: what is left on
disk is exactly what a killed job (OOM killer, SLURM time limit, `kill -9`) leaves.

    STAGE:after_save:STEP   right after the Trainer checkpoint of STEP is complete
    STAGE:torn_save:STEP    in the middle of writing that checkpoint (weights, optimizer and
                            scheduler written; RNG state, trainer_state.json and marker not)
    STAGE:mid_step:STEP     inside training step STEP (the one after checkpoint STEP-1)
    final:mid_save:0        while final/ is being written (model saved, processor not)
    collect:mid_build:0     while `livr collect` fills its new database
"""

import os
import signal
import sys
from pathlib import Path


def die():
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def plant(where: str, event: str, step: int) -> None:
    if where == "collect":
        kill_in_collect()
    elif where == "final":
        kill_in_final_save()
    else:
        kill_in_training(where, event, step)


def kill_in_collect() -> None:
    """Die when `livr collect` hands its rows to Arrow, i.e. while the new database is being filled."""
    import livr.results.db as db

    class _KillingArrow:
        class Table:
            @staticmethod
            def from_pylist(rows):
                die()

    db.pa = _KillingArrow


def kill_in_final_save() -> None:
    """Die once final/ holds the model but not yet the processor."""
    import livr.train as T

    def save_processor(processor, path):
        die()

    T.save_processor = save_processor


def kill_in_training(where: str, event: str, step: int) -> None:
    """Die at `event` of `step` in stage `where`, by subclassing the Trainer a stage trains with."""
    import livr.stage_trainer as S

    class Killing(S.LivrTrainer):
        def _hit(self, at):
            return Path(self.args.output_dir).parent.name == where and self.state.global_step == at

        def _save_checkpoint(self, model, trial):
            super()._save_checkpoint(model, trial)
            if event == "after_save" and self._hit(step):
                die()

        def _save_rng_state(self, output_dir):
            if event == "torn_save" and self._hit(step):
                die()
            super()._save_rng_state(output_dir)

        def training_step(self, *args, **kwargs):
            if event == "mid_step" and self._hit(step - 1):
                die()
            return super().training_step(*args, **kwargs)

    S.LivrTrainer = Killing


if __name__ == "__main__":
    where, event, step = os.environ["LIVR_TEST_KILL_AT"].split(":")
    plant(where, event, int(step))
    from livr.cli import main

    sys.exit(main(sys.argv[1:]))
