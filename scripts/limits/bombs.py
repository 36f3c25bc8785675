#!/usr/bin/env python3
"""Writes the hostile files docs/limits.md measures the server with.

    python3 bombs.py KIND OUT

KIND: huge-cell (one cell of 1 GiB), huge-sst (one shared string of 1 GiB), many-sst (60
million shared strings), many-sst-max (1,999,990: just within the default limit), deep-xml
(20 million nested elements), many-rows (3 million rows), wide-rows (100,000 rows with a
cell in column XFD), long-line (a 60 MB CSV line), issues (a million CSV rows of nothing a
ledger holds), xls-corner (an .xls with cells at A1 and IV65536), xls-numbers-N and
xls-sst-N (an .xls of N number cells, or N cells naming one shared string, 32 columns wide).
"""
import struct, sys, zipfile

HEAD = "户主身份证号,村(社区)代码,姓名,身份证号,与户主关系"
CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      '<Default Extension="xml" ContentType="application/xml"/>'
      '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
      '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
      '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
      '</Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WB = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
      'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
WBRELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
          '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
          '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
SHEET_HEAD = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
SHEET_TAIL = '</sheetData></worksheet>'
SST_HEAD = '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
CHUNK = 1 << 20

def header_row():
    cells = ''.join(f'<c r="{chr(65+i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(HEAD.split(',')))
    return f'<row r="1">{cells}</row>'

def repeat(w, piece, total):
    block = (piece * max(1, CHUNK // len(piece))).encode()
    n = 0
    while n < total:
        w.write(block); n += len(block)

def xlsx(path, sheet, sst):
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr('[Content_Types].xml', CT)
        z.writestr('_rels/.rels', RELS)
        z.writestr('xl/workbook.xml', WB)
        z.writestr('xl/_rels/workbook.xml.rels', WBRELS)
        with z.open('xl/sharedStrings.xml', 'w', force_zip64=True) as w:
            sst(w)
        with z.open('xl/worksheets/sheet1.xml', 'w', force_zip64=True) as w:
            sheet(w)

def plain_sheet(w):
    w.write((SHEET_HEAD + header_row() + SHEET_TAIL).encode())

def empty_sst(w):
    w.write((SST_HEAD + '<si><t>x</t></si></sst>').encode())

def rec(t, d): return struct.pack('<HH', t, len(d)) + d
def bof(): return rec(0x0809, struct.pack('<HH', 0x0600, 0x0005) + b'\0' * 12)

def stream(kind, n):
    def globals_(pos):
        g = bof()
        g += rec(0x0085, struct.pack('<I', pos) + bytes([0, 0, 2, 0]) + b'S1')
        if kind == 'sst':
            s = b'ABCDEFGHIJ'
            g += rec(0x00FC, struct.pack('<II', 1, 1) + struct.pack('<HB', len(s), 0) + s)
        g += rec(0x000A, b'')
        return g
    pos = len(globals_(0)); out = bytearray(globals_(pos)); out += bof()
    if kind == 'corner':             # two cells: A1 and the sheet's far corner
        out += rec(0x0203, struct.pack('<HHHd', 0, 0, 0, 1.0))
        out += rec(0x0203, struct.pack('<HHHd', 65535, 255, 0, 2.0))
        n = 0
    for i in range(n):
        r, c = divmod(i, 32)
        if kind == 'numbers':
            out += rec(0x0203, struct.pack('<HHHd', r, c, 0, float(i)))
        else:
            out += rec(0x00FD, struct.pack('<HHHI', r, c, 0, 0))
    out += rec(0x000A, b'')
    while len(out) < 4096: out += rec(0, b'\0' * 60)   # above the mini-stream cutoff
    return bytes(out)

def cfb(data):
    S = 4096; END = 0xFFFFFFFE; FREE = 0xFFFFFFFF; FATSECT = 0xFFFFFFFD
    nstream = -(-len(data) // S)
    # layout: [fat sectors][dir sector][stream sectors]
    nfat = 1
    while nfat * 1024 < nfat + 1 + nstream: nfat += 1

    assert nfat <= 109
    total = nfat + 1 + nstream
    fat = [FREE] * (nfat * 1024)
    for i in range(nfat): fat[i] = FATSECT
    fat[nfat] = END
    for i in range(nstream):
        fat[nfat + 1 + i] = END if i + 1 == nstream else nfat + 2 + i
    h = bytearray(b'\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1' + b'\0' * 16)
    h += struct.pack('<HHHHH', 0x3E, 4, 0xFFFE, 12, 6) + b'\0' * 6
    h += struct.pack('<IIIIIIIII', 0, nfat, nfat, 0, 4096, END, 0, END, 0)
    difat = list(range(nfat)) + [FREE] * (109 - nfat)
    h += struct.pack('<109I', *difat)
    h += b'\0' * (S - len(h))
    body = bytearray(struct.pack('<%dI' % len(fat), *fat))
    def entry(name, kind, start, size):
        e = bytearray(128); u = name.encode('utf-16-le')
        e[:len(u)] = u; e[64:66] = struct.pack('<H', len(u) + 2); e[66] = kind
        e[68:80] = b'\xff' * 12; e[116:120] = struct.pack('<I', start); e[120:128] = struct.pack('<Q', size)
        return e
    d = entry('Root Entry', 5, nfat, 0); d[76:80] = struct.pack('<I', 1)
    d += entry('Workbook', 2, nfat + 1, len(data))
    d += b'\0' * (S - len(d))
    body += d + data + b'\0' * (nstream * S - len(data))
    return bytes(h + body)


def main():
    kind, out = sys.argv[1], sys.argv[2]
    gib = 1 << 30
    if kind == 'huge-cell':          # one inline cell of 1 GiB
        def sheet(w):
            w.write((SHEET_HEAD + header_row() + '<row r="2"><c r="C2" t="inlineStr"><is><t>').encode())
            repeat(w, 'A', gib)
            w.write(('</t></is></c></row>' + SHEET_TAIL).encode())
        xlsx(out, sheet, empty_sst)
    elif kind == 'huge-sst':         # one shared string of 1 GiB, used by a cell
        def sst(w):
            w.write((SST_HEAD + '<si><t>').encode()); repeat(w, 'B', gib); w.write(b'</t></si></sst>')
        def sheet(w):
            w.write((SHEET_HEAD + header_row() + '<row r="2"><c r="C2" t="s"><v>0</v></c></row>' + SHEET_TAIL).encode())
        xlsx(out, sheet, sst)
    elif kind == 'many-sst':         # 60 million tiny shared strings
        def sst(w):
            w.write(SST_HEAD.encode()); repeat(w, '<si><t>a</t></si>', 60_000_000 * 17); w.write(b'</sst>')
        xlsx(out, plain_sheet, sst)
    elif kind == 'many-sst-max':     # just under the default limit: 1,999,990 one-letter strings
        def sst(w):
            w.write(SST_HEAD.encode()); w.write(b'<si><t>a</t></si>' * 1_999_990); w.write(b'</sst>')
        xlsx(out, plain_sheet, sst)
    elif kind == 'issues':           # a million rows of nothing a ledger holds
        with open(out, 'wb') as f:
            f.write((HEAD + '\n').encode())
            f.write(b''.join(b'x%d,y,z,1,2\n' % i for i in range(1_000_000)))
    elif kind == 'deep-xml':         # 20 million nested elements in the sheet
        def sheet(w):
            w.write((SHEET_HEAD + header_row()).encode())
            repeat(w, '<x>', 20_000_000 * 3); repeat(w, '</x>', 20_000_000 * 4)
            w.write(SHEET_TAIL.encode())
        xlsx(out, sheet, empty_sst)
    elif kind == 'many-rows':        # 3 million rows of one cell each
        def sheet(w):
            w.write((SHEET_HEAD + header_row()).encode())
            for start in range(2, 3_000_002, 100_000):
                w.write(''.join(f'<row r="{r}"><c r="A{r}"><v>1</v></c></row>' for r in range(start, start + 100_000)).encode())
            w.write(SHEET_TAIL.encode())
        xlsx(out, sheet, empty_sst)
    elif kind == 'wide-rows':        # 100,000 rows, each with one cell in column XFD
        def sheet(w):
            w.write((SHEET_HEAD + header_row()).encode())
            w.write(''.join(f'<row r="{r}"><c r="XFD{r}" t="inlineStr"><is><t>x</t></is></c></row>' for r in range(2, 100_002)).encode())
            w.write(SHEET_TAIL.encode())
        xlsx(out, sheet, empty_sst)
    elif kind == 'long-line':        # a 60 MB CSV line
        with open(out, 'wb') as f:
            f.write((HEAD + '\n').encode())
            f.write(b'1' * (60 << 20)); f.write(b',2,3,4,5\n')
    elif kind == 'xls-corner':
        open(out, 'wb').write(cfb(stream('corner', 0)))
    elif kind.startswith('xls-numbers-'):
        open(out, 'wb').write(cfb(stream('numbers', int(kind.rsplit('-', 1)[1]))))
    elif kind.startswith('xls-sst-'):
        open(out, 'wb').write(cfb(stream('sst', int(kind.rsplit('-', 1)[1]))))
    else:
        sys.exit('unknown kind ' + kind)

main()
