"""API shapes shared by every app: a background job's progress, as each job page polls it."""

import datetime
from typing import Literal

from ninja import Field, Schema


class JobProgressOut(Schema):
    """Where a job queued for the worker stands: poll it until `status` is done or failed."""

    status: Literal["queued", "running", "done", "failed"] = Field(description="排队中 / 进行中 / 已完成 / 失败")
    total: int = Field(description="数据行数(读取后才知道)")
    rows_read: int = Field(description="已读取行数")
    rows_checked: int = Field(description="已校验行数")
    rows_written: int = Field(description="已写入行数")
    percent: int
    error: str = Field(description="失败原因")
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
