"""Read CSV, XLSX and Parquet files into all-string frames with the row number users see.

`row` is the row as the user sees it in the file (in Excel, or a CSV opened in
Excel): the header is row 1 and the first data row is row 2; a Parquet record
n (1-based) is row n + 1. Empty rows are dropped but keep their numbers.

CSV bytes are read as UTF-16 if they start with its BOM, else as UTF-8 (with or
without BOM), then GB18030 (a superset of GBK and GB2312) — or Big5 when GB18030
yields private-use characters — then whatever charset-normalizer recognises
among a few Chinese and Unicode encodings. Well-formed CSV goes through pyarrow's parser;
unbalanced quotes or a row too large for it fall back to Python's strict csv
module, which names the row where things go wrong.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import sys
import zipfile
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

import charset_normalizer
import openpyxl
import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.utils.exceptions import InvalidFileException

from chainatlas.ingest.aliases import Kind, resolve_columns
from chainatlas.ingest.errors import IngestError
from chainatlas.ingest.validators import is_valid_uscc

SUPPORTED_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".parquet")
# Encodings accepted from charset-normalizer when UTF-8 and GB18030 both fail.
_FALLBACK_ENCODINGS = frozenset(
    {
        "big5",
        "big5hkscs",
        "cp950",
        "utf_16",
        "utf_16_le",
        "utf_16_be",
        "utf_32",
        "utf_32_le",
        "utf_32_be",
    }
)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = b"\xef\xbb\xbf"
_MAX_LISTED = 10  # problems named in one message
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def read_table(path: str | Path, *, kind: Kind | None = None) -> pl.DataFrame:
    """All-string columns named as in the file's header, plus `row` (Int64), first.

    With `kind`, also check that the required columns of that table are there
    (headers may be any alias, see `aliases`). Raises `IngestError`.
    """
    source = Path(path)
    if not source.is_file():
        raise IngestError(f"找不到文件：{source}", f"file not found: {source}")
    suffix = source.suffix.lower()
    if suffix == ".xls":
        raise IngestError(
            "不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx",
            "old .xls files are not supported; save as .xlsx in Excel",
        )
    readers: dict[str, Callable[[Path], pl.DataFrame]] = {
        ".csv": _read_csv,
        ".tsv": _read_csv,
        ".txt": _read_csv,
        ".xlsx": _read_xlsx,
        ".xlsm": _read_xlsx,
        ".parquet": _read_parquet,
    }
    if suffix not in readers:
        raise IngestError(
            f"不支持的文件类型 {suffix or '（无扩展名）'}，可用 CSV、XLSX 或 Parquet",
            f"unsupported file type {suffix or '(none)'}; use CSV, XLSX or Parquet",
        )
    if source.stat().st_size == 0:
        raise _empty_file()
    table = readers[suffix](source)
    if kind is not None:
        resolve_columns(table.columns, kind)
    return table


def _empty_file() -> IngestError:
    return IngestError("文件为空", "the file is empty")


def _column_label(index: int) -> str:
    """'第 3 列（C）' for the 0-based column index 2."""
    return f"第 {index + 1} 列（{get_column_letter(index + 1)}）"


def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_MAX_LISTED])
    return shown + (f" … (+{len(items) - _MAX_LISTED})" if len(items) > _MAX_LISTED else "")


# --- shared finishing ---------------------------------------------------------


def _looks_like_data(header: Sequence[str]) -> bool:
    """A first row holding a credit code, or only numbers, is data, not a header."""
    cells = [cell for cell in header if cell]
    return any(is_valid_uscc(cell.upper()) for cell in cells) or all(
        re.fullmatch(r"[-+]?[0-9]+(?:\.[0-9]+)?", cell) for cell in cells
    )


def _finish_table(header_cells: Sequence[object], body: pl.DataFrame) -> pl.DataFrame:
    """Name the body's columns (c0, c1, …) after the header, number rows from 2, tidy up."""
    header = [str(cell).strip() if cell is not None else "" for cell in header_cells]
    header += [""] * (body.width - len(header))
    if not any(header):
        raise IngestError(
            "第 1 行为空：缺少表头（第 1 行应为列名）",
            "row 1 is empty: the header (column names) is missing",
        )
    if _looks_like_data(header):
        raise IngestError(
            "第 1 行看起来是数据而不是表头：请在第 1 行写列名",
            "row 1 looks like data, not a header: put column names in row 1",
        )
    body = body.select(
        pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in body.columns
    ).with_columns(pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias("row"))

    unnamed = [i for i, name in enumerate(header) if not name]
    filled = [i for i in unnamed if body[f"c{i}"].null_count() < body.height]
    if filled:
        labels = [_column_label(i) for i in filled]
        raise IngestError(
            "以下列有数据但没有表头：" + "、".join(labels[:_MAX_LISTED]),
            "columns with data but no header: "
            + _listed([f"column {i + 1} ({get_column_letter(i + 1)})" for i in filled]),
        )
    named = [i for i in range(len(header)) if header[i]]
    seen: dict[str, list[int]] = {}
    for i in named:
        seen.setdefault(header[i], []).append(i)
    doubled = {name: idx for name, idx in seen.items() if len(idx) > 1}
    if doubled:
        zh = "；".join(
            f"「{n}」在" + "、".join(_column_label(i) for i in idx) for n, idx in doubled.items()
        )
        en = "; ".join(
            f"'{n}' in columns " + ", ".join(str(i + 1) for i in idx) for n, idx in doubled.items()
        )
        raise IngestError(f"表头重复：{zh}", f"duplicate headers: {en}")
    if "row" in seen:
        raise IngestError(
            "表头不能有名为 row 的列（行号列由系统生成）",
            "a column may not be named 'row' (the row number is added on reading)",
        )

    data = [f"c{i}" for i in named]
    body = body.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in data)) if data else body
    return body.select(pl.col("row"), *(pl.col(f"c{i}").alias(header[i]) for i in named))


# --- CSV ----------------------------------------------------------------------


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _undecodable(data: bytes, offset: int, tried: str) -> IngestError:
    line = _line_of(data, offset)
    byte = data[offset : offset + 1].hex().upper()
    return IngestError(
        f"无法解码文件：第 {line} 行（字节偏移 {offset}）的字节 0x{byte} 不是有效的 {tried} 编码；"
        "请另存为 UTF-8 或 GBK 编码的 CSV",
        f"cannot decode the file: byte 0x{byte} at offset {offset} (line {line}) is not valid "
        f"{tried}; save the CSV as UTF-8 or GBK",
    )


def _mostly_utf8(data: bytes) -> bool:
    """Many valid multi-byte UTF-8 characters and few broken ones: a damaged UTF-8 file.

    Judged on the first MiB: decoding a large GBK file with replacements is slow.
    """
    text = data[: 1 << 20].decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    return non_ascii - broken >= 2 and non_ascii - broken > 4 * broken


def decode_bytes(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-16 by BOM, UTF-8 (BOM optional), GB18030, then a guess."""
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise _undecodable(data, error.start, "UTF-16") from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as error:
        if _mostly_utf8(data):
            raise _undecodable(data, error.start, "UTF-8") from None
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as error:
        gb_error = error
    else:
        # Big5 (traditional) bytes also decode as GB18030, into private-use characters.
        if _PRIVATE_USE.search(text):
            with contextlib.suppress(UnicodeDecodeError):
                big5 = data.decode("big5hkscs")
                if not _PRIVATE_USE.search(big5):
                    return big5, "big5hkscs"
        return text, "gb18030"
    guess = charset_normalizer.from_bytes(data).best()
    if guess is not None and guess.encoding in _FALLBACK_ENCODINGS:
        return str(guess), guess.encoding
    raise _undecodable(data, gb_error.start, "UTF-8 或 GBK/GB18030 / UTF-8 or GBK/GB18030")


def _utf8_payload(data: bytes) -> tuple[bytes, bool]:
    """(UTF-8 bytes without BOM, whether only the first 64 KiB were checked).

    A file whose start is valid UTF-8 is passed on unchecked beyond it: the CSV
    parser validates the rest, and a failure sends the file to `decode_bytes`.
    """
    if data.startswith(_UTF16_BOMS):
        return decode_bytes(data)[0].encode("utf-8"), False
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    head = data[:65536]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        cut_character = (
            len(data) > len(head)
            and error.start >= len(head) - 3
            and error.reason == "unexpected end of data"
        )
        if not cut_character:
            return decode_bytes(data)[0].encode("utf-8"), False
    return data, len(data) > len(head)


def _delimiter(payload: bytes) -> str:
    first_line = payload.split(b"\n", 1)[0]
    return "\t" if first_line.count(b"\t") > first_line.count(b",") else ","


@contextlib.contextmanager
def _no_field_limit() -> Iterator[None]:
    """Python's csv refuses fields over 128 KiB; long fields are rejected later, per row."""
    previous = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _ragged(rows: Sequence[tuple[int, int]], expected: int) -> IngestError:
    zh = "、".join(f"第 {row} 行有 {count} 列" for row, count in rows[:_MAX_LISTED])
    en = _listed([f"row {row} has {count}" for row, count in rows])
    return IngestError(
        f"列数与表头（{expected} 列）不一致：{zh}；请检查分隔符和引号",
        f"rows do not have the header's {expected} columns: {en}; check delimiters and quotes",
    )


def _parse_strictly(text: str, delimiter: str) -> tuple[list[str], pl.DataFrame]:
    """Python's csv in strict mode: slower, but names the row of any malformed record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[list[str]] = []
    record_start = 1
    with _no_field_limit():
        try:
            for record in reader:
                records.append(record)
                record_start = reader.line_num + 1
        except csv.Error as error:
            row = len(records) + 1
            raise IngestError(
                f"CSV 格式错误：第 {row} 行（文件第 {record_start} 行起）"
                f"引号不配对或用法不对（{error}）",
                f"malformed CSV: unbalanced or misplaced quote in row {row} "
                f"(from line {record_start}) ({error})",
            ) from None
    if not records or not any(records[0]):
        raise IngestError("第 1 行为空：缺少表头", "row 1 is empty: the header is missing")
    header, rows = records[0], records[1:]
    width = len(header)
    ragged = [(i + 2, len(r)) for i, r in enumerate(rows) if r and len(r) != width]
    if ragged:
        raise _ragged(ragged, width)
    columns = list(zip(*[r or [""] * width for r in rows], strict=True)) or [()] * width
    body = pl.DataFrame(
        {f"c{i}": pl.Series(list(col), dtype=pl.String) for i, col in enumerate(columns)}
    )
    return header, body


def _parse_fast(payload: bytes, delimiter: str, width: int) -> pl.DataFrame:
    """pyarrow's multi-threaded parser; rows with the wrong column count raise, named."""
    invalid: list[tuple[int, int]] = []

    def on_invalid(row: pa_csv.InvalidRow) -> str:
        invalid.append((row.number or 0, row.actual_columns))
        return "skip"

    def parse(threads: bool) -> pa.Table:
        return pa_csv.read_csv(
            io.BytesIO(payload),
            read_options=pa_csv.ReadOptions(
                autogenerate_column_names=True, use_threads=threads, block_size=1 << 24
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(width)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    table = parse(threads=True)
    if invalid:
        invalid.clear()
        parse(threads=False)  # single-threaded, so pyarrow knows the row numbers
        raise _ragged(invalid, width)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.rename({f"f{i}": f"c{i}" for i in range(width)})


def _read_csv(path: Path) -> pl.DataFrame:
    data = path.read_bytes()
    payload, unchecked = _utf8_payload(data)
    if not payload.strip():
        raise _empty_file()
    try:
        return _table_from_csv(payload)
    except pa.ArrowInvalid as error:
        if not (unchecked and "UTF8" in str(error)):
            raise
    # Not UTF-8 after all (or damaged): decode the whole file, which names a bad byte.
    return _table_from_csv(decode_bytes(data)[0].encode("utf-8"))


def _table_from_csv(payload: bytes) -> pl.DataFrame:
    delimiter = _delimiter(payload)
    if payload.count(b'"') % 2:  # an unclosed quote: let the strict parser find it
        return _finish_table(*_parse_strictly(payload.decode("utf-8"), delimiter))
    head = payload[: 1 << 20].decode("utf-8", errors="ignore")
    width = len(next(csv.reader(io.StringIO(head, newline=""), delimiter=delimiter), []))
    try:
        table = _parse_fast(payload, delimiter, width)
    except pa.ArrowInvalid as error:
        if "UTF8" in str(error):
            raise
        # A record larger than pyarrow's block, or a quote pyarrow cannot place.
        return _finish_table(*_parse_strictly(payload.decode("utf-8"), delimiter))
    header = [table[c][0] for c in table.columns]
    return _finish_table(header, table.slice(1))


# --- XLSX ---------------------------------------------------------------------

_MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')


def _merged_ranges(path: Path, worksheet_path: str) -> list[str]:
    """Merged ranges of one sheet, scanning its XML in chunks (the workbook stays unloaded)."""
    found: list[str] = []
    with zipfile.ZipFile(path) as archive, archive.open(worksheet_path.lstrip("/")) as xml:
        tail = b""
        while chunk := xml.read(1 << 22):
            window = tail + chunk
            found += [
                m.group(1).decode() for m in _MERGE_CELL.finditer(window) if m.end() > len(tail)
            ]
            tail = window[-512:]
    return list(dict.fromkeys(found))


def _cell_text(value: object) -> str | None:
    """A cell as text: whole numbers without ".0", dates as ISO, 15 significant digits."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.15g}"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _read_xlsx(path: Path) -> pl.DataFrame:
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as error:
        raise IngestError(
            f"无法打开 Excel 文件：{error}", f"cannot open the Excel file: {error}"
        ) from None
    try:
        if not book.worksheets:
            raise _empty_file()
        sheet = book.worksheets[0]
        merged = _merged_ranges(path, sheet._worksheet_path)
        in_header = [ref for ref in merged if range_boundaries(ref)[1] == 1]
        if in_header:
            raise IngestError(
                "表头（第 1 行）有合并单元格："
                + "、".join(in_header)
                + "；请取消合并，让每列只有一个列名",
                "the header (row 1) has merged cells: "
                + _listed(in_header)
                + "; unmerge them so every column has one name",
            )
        sheet.reset_dimensions()  # stated dimensions are often wrong; read every row
        rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    if not any(any(row) for row in rows):
        raise _empty_file()
    if not any(rows[0]):
        raise IngestError(
            "第 1 行为空：缺少表头（第 1 行应为列名）",
            "row 1 is empty: the header (column names) is missing",
        )
    _fill_merged(rows, merged)
    width = max(len(r) for r in rows)
    columns = {
        f"c{i}": pl.Series([r[i] if i < len(r) else None for r in rows[1:]], dtype=pl.String)
        for i in range(width)
    }
    return _finish_table(rows[0], pl.DataFrame(columns))


def _fill_merged(rows: list[list[str | None]], merged: Sequence[str]) -> None:
    """Merged data cells show one value across the range in Excel: give it to every cell."""
    for ref in merged:
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        if min_row is None or min_col is None or min_row - 1 >= len(rows):
            continue
        top_left = rows[min_row - 1]
        value = top_left[min_col - 1] if min_col - 1 < len(top_left) else None
        for r in range(min_row - 1, min((max_row or min_row), len(rows))):
            row = rows[r]
            row += [None] * ((max_col or min_col) - len(row))
            for c in range(min_col - 1, max_col or min_col):
                row[c] = value


# --- Parquet ------------------------------------------------------------------


def _as_text(name: str, dtype: pl.DataType) -> pl.Expr | None:
    column = pl.col(name)
    if dtype == pl.String:
        return column
    if dtype.is_float():
        whole = (column.round() == column) & (column.abs() < 1e15)
        return (
            pl.when(whole)
            .then(column.cast(pl.Int64, strict=False).cast(pl.String))
            .otherwise(column.cast(pl.String))
        )
    if dtype == pl.Datetime:
        return column.dt.strftime("%Y-%m-%d %H:%M:%S")
    if dtype.is_numeric() or dtype in (
        pl.Boolean,
        pl.Date,
        pl.Time,
        pl.Duration,
        pl.Categorical,
        pl.Enum,
        pl.Null,
    ):
        return column.cast(pl.String)
    return None


def _read_parquet(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as error:
        raise IngestError(
            f"无法读取 Parquet 文件：{error}", f"cannot read the Parquet file: {error}"
        ) from None
    if frame.width == 0:
        raise _empty_file()
    texts = {name: _as_text(name, dtype) for name, dtype in frame.schema.items()}
    unusable = [name for name, expr in texts.items() if expr is None]
    if unusable:
        raise IngestError(
            "以下列不是简单的值（如列表、结构或二进制）：" + "、".join(unusable),
            "columns that hold no plain values (lists, structs, binary): " + _listed(unusable),
        )
    body = frame.select(
        expr.alias(f"c{i}") for i, expr in enumerate(texts.values()) if expr is not None
    )
    return _finish_table(frame.columns, body)
