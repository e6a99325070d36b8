"""Many tasks: seeds and task files, pools of workers, sweeps, comparisons, sensitivity designs."""
