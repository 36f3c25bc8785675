"""Writes the Excel 97-2003 (.xls) fixtures of the app tests with xlwt (pip install xlwt).

There is no Rust .xls writer, so the fixtures are committed. To regenerate:

    python3 make_xls.py ledger LEDGER.csv ledger-12-households-seed-1.xls
    python3 make_xls.py return return-line1-failed.xls

LEDGER.csv is `ledger_csv(&ledger(12, 1))` from crates/app/tests/registry.rs (write it out
from a scratch test). ID numbers, codes, phones and accounts go in text-formatted cells, as
in an office's sheet whose ID column is formatted as text; money columns as numbers.
"""
import csv
import sys

import xlwt


def ledger(src, dst):
    rows = list(csv.reader(open(src, encoding="utf-8-sig")))
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("台账")
    text = xlwt.easyxf(num_format_str="@")
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if i > 0 and v and "元" in rows[0][j]:
                ws.write(i, j, float(v))
            else:
                ws.write(i, j, v, text)
    wb.save(dst)


def bank_return(dst):
    # A bank's return for line 1 of a fresh database: 张三, 500.00 元, failed.
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("回盘")
    for j, h in enumerate(["明细号", "姓名", "金额(元)", "处理结果", "失败原因", "银行流水号"]):
        ws.write(0, j, h)
    for j, v in enumerate([1, "张三", 500.0, "失败", "账户冻结", "T1"]):
        ws.write(1, j, v)
    wb.save(dst)


if __name__ == "__main__":
    if sys.argv[1] == "ledger":
        ledger(sys.argv[2], sys.argv[3])
    else:
        bank_return(sys.argv[2])
