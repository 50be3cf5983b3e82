"""Data management: bulk import (imports.py, import_rows.py, import_files.py) and CSV/XLSX export
(exports.py) of the shop's lists and entities; models.py holds both's bookkeeping tables."""
