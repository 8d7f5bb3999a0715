"""Bytes to text: UTF-8 only, and when it is not, a guess of what the bytes are."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from promptyard.datasets.table import DatasetError

logger = logging.getLogger(__name__)

_SNIFF_BYTES = 64 * 1024


def decode_text(data: bytes, source: str) -> str:
    """`data` as text: UTF-8 (a BOM is dropped); anything else is a DatasetError.

    The message says which encoding the bytes look like and where the first bad byte is.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DatasetError(
            "the file is UTF-16 text (it starts with a UTF-16 byte-order mark); "
            "save it as UTF-8 and import it again",
            source=source,
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _not_utf8(data[exc.start], guess_encoding(data), source, line, column) from None
    return text[1:] if text.startswith("\ufeff") else text


def _not_utf8(byte: int, guess: str, source: str, line: int, column: int) -> DatasetError:
    return DatasetError(
        f"the file is not UTF-8 text (byte 0x{byte:02X} cannot be decoded); "
        f"it looks like {guess}; save it as UTF-8 and import it again",
        source=source,
        line=line,
        column=column,
    )


def locate_decode_error(chunks: Iterable[bytes], source: str) -> DatasetError:
    """The error `decode_text` gives for the first byte of `chunks` that is not UTF-8.

    Reads the chunks in order, holding one at a time; the encoding is guessed from the
    start of the file, or from the bytes around the bad one when it lies further on.
    """
    line, column_base, position, carry, head = 1, 0, 0, b"", b""
    for chunk in chunks:
        data = carry + chunk
        if len(head) < _SNIFF_BYTES:
            head += chunk[: _SNIFF_BYTES - len(head)]
        carry = b""
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if not (exc.end == len(data) and len(data) - exc.start < 4):
                return _decode_error_at(data, exc.start, line, column_base, position, head, source)
            carry, data = data[exc.start :], data[: exc.start]  # a character cut at the end
        line += data.count(b"\n")
        last = data.rfind(b"\n")
        column_base = len(data) - (last + 1) if last >= 0 else column_base + len(data)
        position += len(data)
    if carry:  # the file ends inside a character
        return _decode_error_at(carry, 0, line, column_base, position, head, source)
    return DatasetError("the file is not UTF-8 text", source=source)


def _decode_error_at(
    data: bytes, index: int, line: int, column_base: int, position: int, head: bytes, source: str
) -> DatasetError:
    """The error for bad byte `data[index]`; `data` starts at file offset `position`."""
    before = data.rfind(b"\n", 0, index)
    column = index - before if before >= 0 else column_base + index + 1
    line += data.count(b"\n", 0, index)
    half = _SNIFF_BYTES // 2
    sample = head if position + index < _SNIFF_BYTES else data[max(0, index - half) : index + half]
    return _not_utf8(data[index], guess_encoding(sample), source, line, column)


def guess_encoding(data: bytes) -> str:
    """A person-readable name of the encoding `data` most likely uses."""
    sample = data[:_SNIFF_BYTES]
    if _looks_western(sample):
        return "Windows-1252 (cp1252)"
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(sample).best()
        if best is not None and best.encoding and best.encoding not in {"utf_8", "ascii"}:
            return _encoding_label(best.encoding)
    except ImportError:  # pragma: no cover - charset_normalizer ships with requests
        logger.debug("charset_normalizer is not installed; guessing the encoding by hand")
    # Bytes 0x80-0x9F are printable in Windows-1252 and control codes in Latin-1.
    if any(0x80 <= b <= 0x9F for b in sample):
        return "Windows-1252 (cp1252)"
    return "Latin-1 (ISO-8859-1)"


_WESTERN_EXTRA = set("€‚„…†‡‰‘’“”•–—™«»°±²³µ·¼½¾¿×÷¡¢£¥§©®")


def _looks_western(sample: bytes) -> bool:
    """True when the bytes read as Windows-1252 give Western European letters."""
    try:
        text = sample.decode("cp1252")
    except UnicodeDecodeError:
        return False
    high = [c for c in text if ord(c) > 127]
    if not high:
        return False
    fitting = sum(1 for c in high if c.isalpha() and ord(c) <= 0x17F or c in _WESTERN_EXTRA)
    letters = sum(1 for c in text if c.isalpha())
    # In Western text accented letters are a minority; Cyrillic or Greek read as cp1252
    # would be almost all "accented".
    return fitting >= 0.9 * len(high) and len(high) <= 0.4 * max(letters, 1)


def _encoding_label(name: str) -> str:
    labels = {
        "cp1252": "Windows-1252 (cp1252)",
        "latin_1": "Latin-1 (ISO-8859-1)",
        "iso8859_15": "Latin-9 (ISO-8859-15)",
        "cp1250": "Windows-1250 (cp1250)",
        "cp1251": "Windows-1251 (cp1251)",
        "shift_jis": "Shift JIS",
        "cp932": "Shift JIS (cp932)",
        "euc_jp": "EUC-JP",
        "gb18030": "GB18030",
        "big5": "Big5",
        "utf_16": "UTF-16",
        "mac_roman": "Mac Roman",
    }
    return labels.get(name, name.replace("_", "-"))
