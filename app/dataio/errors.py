"""The error codes of data management (imports)."""

from __future__ import annotations

from app.core.errors import ErrorCode


class DataioError(ErrorCode):
    FILE_TOO_LARGE = (
        "file_too_large",
        413,
        "the uploaded file is larger than the storefront's import limit (DATA_IMPORT_MAX_BYTES)",
    )
    UNSUPPORTED_FILE_TYPE = (
        "unsupported_file_type",
        415,
        "the uploaded file is neither CSV (UTF-8 text) nor an XLSX workbook, whatever its name",
    )
    IMPORT_NOT_RESUMABLE = (
        "import_not_resumable",
        409,
        "the import is finished, or still running with a live worker; only a stalled one resumes",
    )
