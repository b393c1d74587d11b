"""Regenerates the Parquet and XLSX seed files of Fuzz/Corpus (XML/CSV/JSON seeds are hand-written).
   python3 Fuzz/Corpus/make_seeds.py   (needs pyarrow and openpyxl)"""
import datetime, decimal, io, os, zipfile
import pyarrow as pa, pyarrow.parquet as pq

here = os.path.dirname(os.path.abspath(__file__))
pqdir = os.path.join(here, "FuzzParquet")
n = 12
table = pa.table({
    "i32": pa.array([i if i % 5 else None for i in range(n)], pa.int32()),
    "i64": pa.array([i * 1000003 for i in range(n)], pa.int64()),
    "f": pa.array([i / 3 for i in range(n)], pa.float32()),
    "d": pa.array([i / 7 if i % 4 else None for i in range(n)], pa.float64()),
    "b": pa.array([i % 3 == 0 for i in range(n)], pa.bool_()),
    "s": pa.array([f"s{i % 4}" if i % 6 else None for i in range(n)], pa.string()),
    "bin": pa.array([bytes([i]) * (i % 3) for i in range(n)], pa.binary()),
    "fixed": pa.array([bytes([i] * 4) for i in range(n)], pa.binary(4)),
    "date": pa.array([datetime.date(2020, 1, 1 + i) for i in range(n)], pa.date32()),
    "ts": pa.array([datetime.datetime(2020, 1, 1, i) for i in range(n)], pa.timestamp("us", tz="UTC")),
    "dec": pa.array([decimal.Decimal(f"{i}.25") for i in range(n)], pa.decimal128(9, 2)),
})
for codec in ["none", "snappy", "gzip", "zstd"]:
    pq.write_table(table, os.path.join(pqdir, f"types-{codec}.parquet"), compression=codec, row_group_size=8)
pq.write_table(table, os.path.join(pqdir, "plain-v2.parquet"), compression="none", use_dictionary=False,
               data_page_version="2.0", write_statistics=True)
pq.write_table(table.select(["i64", "s"]), os.path.join(pqdir, "v1-nodict.parquet"), compression="snappy",
               use_dictionary=False, data_page_version="1.0")
pq.write_table(table.select(["i32", "d"]), os.path.join(pqdir, "bss.parquet"), compression="none",
               use_dictionary=False, column_encoding={"i32": "DELTA_BINARY_PACKED", "d": "BYTE_STREAM_SPLIT"})
pq.write_table(table.select(["s", "bin"]), os.path.join(pqdir, "delta-strings.parquet"), compression="none",
               use_dictionary=False, column_encoding={"s": "DELTA_LENGTH_BYTE_ARRAY", "bin": "DELTA_BYTE_ARRAY"})
pq.write_table(table.slice(0, 0), os.path.join(pqdir, "empty.parquet"))

import openpyxl
xdir = os.path.join(here, "FuzzXLSX")
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "Data"
ws.append(["id", "name", "when", "ratio", "ok"])
for i in range(4):
    ws.append([i, f"n{i}", datetime.datetime(2021, 3, 1 + i, 12, 30), i / 4, i % 2 == 0])
ws["G9"] = "=A2+1"
ws2 = wb.create_sheet("Second")
ws2.append(["a", None, "c"])
ws2["B3"] = datetime.date(1999, 12, 31)
wb.save(os.path.join(xdir, "basic.xlsx"))

# A workbook the way Excel writes it: shared strings (rich text), styles with a custom date format,
# inline strings, cached formula values, errors.
parts = {
    "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
    "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><workbookPr date1904="1"/><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="x/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
    "xl/sharedStrings.xml": '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>head_x005F_1</t></si><si><r><t>ri</t></r><r><t>ch</t></r><rPh><t>x</t></rPh></si><si/></sst>',
    "xl/styles.xml": '<?xml version="1.0"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd h:mm"/><numFmt numFmtId="165" formatCode="[h]:mm"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="14"/><xf numFmtId="165"/></cellXfs></styleSheet>',
    "xl/worksheets/sheet1.xml": '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="inlineStr"><is><t>c</t></is></c><c r="D1" t="s"><v>2</v></c></row><row r="3"><c r="A3" s="1"><v>44000.5</v></c><c r="B3" t="b"><v>1</v></c><c r="C3" t="e"><v>#DIV/0!</v></c><c r="D3" s="3"><f>A3</f><v>1.25</v></c></row><row><c s="2"><v>1</v></c><c r="AA4" t="str"><f>X</f></c></row></sheetData></worksheet>',
}
with zipfile.ZipFile(os.path.join(xdir, "excel-style.xlsx"), "w", zipfile.ZIP_DEFLATED) as z:
    for k, v in parts.items(): z.writestr(k, v)
with zipfile.ZipFile(os.path.join(xdir, "stored.xlsx"), "w", zipfile.ZIP_STORED) as z:
    for k, v in parts.items(): z.writestr(k, v)
