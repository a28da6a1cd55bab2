"""One file taken from a multipart/form-data request, bounded in size (order imports)."""

from werkzeug.exceptions import RequestEntityTooLarge

from gudang_common.errors import ValidationFailed

from .imports import MAX_UPLOAD_BYTES, FileTooLarge

FORM_OVERHEAD = 64 * 1024  # part headers and small fields (format, dry_run) beside the file


def too_large(max_bytes):
    return FileTooLarge(
        "the file is too large",
        {"file": [f"At most {max_bytes // 2**20} MiB; split the export."]},
    )


def uploaded_file(request, name="file", max_bytes=MAX_UPLOAD_BYTES):
    """The uploaded file part `name`: 413 when the body is over the bound, 400 without it.

    werkzeug parses the body as it streams in and spools a file part larger than 500 KiB
    to a temporary file, so the upload is held once, on disk, not in memory."""
    if request.content_length is not None and request.content_length > max_bytes + FORM_OVERHEAD:
        raise too_large(max_bytes)  # refused before reading a byte of it
    if request.mimetype != "multipart/form-data":
        raise ValidationFailed(
            "send the file as multipart/form-data",
            {name: [f"Send multipart/form-data with the file in a part named '{name}'."]},
        )
    # also bounds a body that came without a Content-Length
    request.max_content_length = max_bytes + FORM_OVERHEAD
    # werkzeug 2.3 applies this to its parser's buffer, which takes 64 KiB reads: keep room
    request.max_form_memory_size = 1024 * 1024
    try:
        upload = request.files.get(name)
    except RequestEntityTooLarge:
        raise too_large(max_bytes) from None
    if upload is None:
        raise ValidationFailed(
            f"no file part named '{name}'", {name: [f"Missing the '{name}' file part."]}
        )
    return upload
