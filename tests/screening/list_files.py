"""Build verification lists for tests, the way they come down from above: a title row, then the
header in the sender's own column order."""

import csv
import io

from openpyxl import Workbook

HEADER = ["序号", "来源地", "姓名", "公民身份号码", "联系电话", "核查原因", "推送批次"]


def list_row(n: int, *, name="", id_number="", phone="", origin="湖北省武汉市", reason="途经风险地区",
             batch="第3批") -> list:
    """One row in HEADER order."""
    return [n, origin, name, id_number, phone, reason, batch]


def list_xlsx(rows, *, header=HEADER, title="关于核查重点地区来返人员的通知(附名单)") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def list_csv(rows, *, header=HEADER) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
