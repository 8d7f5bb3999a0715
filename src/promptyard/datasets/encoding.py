"""Bytes to text: UTF-8 only, and when it is not, a guess of what the bytes are."""

from __future__ import annotations

import logging

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
        guess = guess_encoding(data)
        raise DatasetError(
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02X} cannot be decoded); "
            f"it looks like {guess}; save it as UTF-8 and import it again",
            source=source,
            line=line,
            column=column,
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


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
