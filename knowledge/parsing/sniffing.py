"""What a file is: its kind from the name, its size, and whether its content
matches the claim."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from knowledge.parsing.base import (
    KIND_BY_EXTENSION,
    SUPPORTED_SENTENCE,
    DocumentKind,
    DocumentRejected,
    Limits,
    RejectionCode,
    megabytes,
)
from knowledge.parsing.names import sanitize_display_name


def kind_from_name(name: str) -> DocumentKind:
    suffix = PurePosixPath(sanitize_display_name(name).lower()).suffix
    kind = KIND_BY_EXTENSION.get(suffix)
    if kind is None:
        described = f"“{suffix}” files" if suffix else "files without an extension"
        raise DocumentRejected(
            code=RejectionCode.UNSUPPORTED_TYPE,
            reason=f"We can't read {described}. {SUPPORTED_SENTENCE}",
        )
    return kind


def load(data: bytes | Path, *, limits: Limits) -> bytes:
    # Check a path's size before reading it, so an oversized file never lands
    # in memory.
    size = data.stat().st_size if isinstance(data, Path) else len(data)
    if size == 0:
        raise DocumentRejected(
            code=RejectionCode.EMPTY,
            reason="The file is empty. Check that you picked the right file and upload it again.",
        )
    if size > limits.max_bytes:
        raise DocumentRejected(
            code=RejectionCode.TOO_LARGE,
            reason=(
                f"The file is {megabytes(size)}, larger than the {megabytes(limits.max_bytes)} "
                "limit. Split it into smaller files or remove images, then upload again."
            ),
        )
    return data.read_bytes() if isinstance(data, Path) else bytes(data)




# Signatures of things people commonly upload by mistake; used only to make the
# mismatch message say what the file really is.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF"),
    (b"PK\x03\x04", "a zip archive (for example an Office file)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an older Office file (.doc, .xls) or a protected one"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
)
_OLE_MAGIC = _SIGNATURES[2][0]
# Short enough to begin real text ("MZ Logistics report", "GIF8 format notes"):
# for text files these only describe a failure, they never cause one.
_WEAK_SIGNATURES = (b"MZ", b"GIF8")
# Office writes a password-protected .docx as an OLE container with this stream.
_OLE_ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")


def looks_like(data: bytes) -> str | None:
    head = data[:16]
    for magic, description in _SIGNATURES:
        if head.startswith(magic):
            return description
    return None


def sniff(*, kind: DocumentKind, data: bytes) -> None:
    actual = looks_like(data)
    if kind is DocumentKind.PDF:
        # The spec allows junk before the header; Acrobat looks in the first 1 KB.
        if b"%PDF-" not in data[:1024]:
            raise _mismatch(expected="a PDF", actual=actual)
    elif kind is DocumentKind.DOCX:
        if data.startswith(_OLE_MAGIC):
            if _OLE_ENCRYPTION_STREAM in data:
                raise DocumentRejected(
                    code=RejectionCode.ENCRYPTED,
                    reason=(
                        "This Word document is password-protected. Remove the password in "
                        "Word (File › Info › Protect Document) and upload it again."
                    ),
                )
            raise DocumentRejected(
                code=RejectionCode.CONTENT_MISMATCH,
                reason=(
                    "This is an older Word (.doc) file renamed to .docx. Open it in Word, "
                    "save it as .docx, and upload it again."
                ),
            )
        if not data.startswith(b"PK\x03\x04"):
            raise _mismatch(expected="a Word (.docx) document", actual=actual)
    elif actual is not None and not data.startswith(_WEAK_SIGNATURES):
        raise _mismatch(expected="a text file", actual=actual)


def _mismatch(*, expected: str, actual: str | None) -> DocumentRejected:
    what = f"is actually {actual}" if actual else "is not"
    return DocumentRejected(
        code=RejectionCode.CONTENT_MISMATCH,
        reason=(
            f"The file's name says it is {expected}, but its content {what}"
            f"{'' if actual else ' ' + expected}. "
            "Upload the original file, or rename it to match what it is."
        ),
    )
