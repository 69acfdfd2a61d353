"""Data: the registry of public data sets and loaders into ssbml's tidy schemas."""

from ssbml.data.registry import (
    DATASETS,
    DataHashError,
    DataNotFoundError,
    Dataset,
    fetch,
    get_dataset,
)

__all__ = ["DATASETS", "DataHashError", "DataNotFoundError", "Dataset", "fetch", "get_dataset"]
