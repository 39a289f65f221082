"""Reading, validating and generating brokerage data directories (docs/data-contract.md)."""

from valuemodel.data.reader import DataSet, open_data
from valuemodel.data.schema import TABLES
from valuemodel.data.validate import Problem, ValidationReport, validate

__all__ = ["TABLES", "DataSet", "Problem", "ValidationReport", "open_data", "validate"]
