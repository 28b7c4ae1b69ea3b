"""The worker: reports -> extractions -> incidents -> levels -> alerts, one transaction a batch."""
