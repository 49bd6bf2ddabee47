"""`yiyang worker`, `yiyang scheduler` and `yiyang jobs run KIND`."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from core.db import get_session


@click.command("worker")
@click.option("--burst", is_flag=True, help="处理完队列中的任务后退出 / stop when the queue is empty")
@with_appcontext
def worker_command(burst: bool) -> None:
    """运行后台任务进程（需要 YIYANG_REDIS_URL）/ run a job worker on the Redis queue."""
    from rq import SimpleWorker

    from jobs.queue import _WORKER_APP, get_queue

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    queue = get_queue(app)
    if queue.mode != "redis":
        raise click.ClickException("未设置 YIYANG_REDIS_URL：没有 Redis 时任务在应用进程内执行，不需要 worker。"
                                   " Set YIYANG_REDIS_URL to run a worker.")
    _WORKER_APP["app"] = app
    worker = SimpleWorker([queue.queue], connection=queue.connection)
    click.echo(f"worker {worker.name} 正在处理队列 / processing queue {queue.name}")
    worker.work(burst=burst, with_scheduler=True)


@click.command("scheduler")
@click.option("--interval", type=float, default=30.0, show_default=True, help="每轮间隔秒数 / seconds between rounds")
@click.option("--once", is_flag=True, help="只运行一轮 / run one round and stop")
@with_appcontext
def scheduler_command(interval: float, once: bool) -> None:
    """按配置的时间运行每日任务并找回丢失的任务 / run the daily schedules and the sweep."""
    from jobs.schedule import run_forever, schedule_times, tick

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for kind, at in schedule_times(app).items():
        click.echo(f"  {kind:<14} {f'{at[0]:02d}:{at[1]:02d}' if at else 'off'}")
    if once:
        started = tick(app)
        queue = app.extensions["yiyang.jobs"]
        if hasattr(queue, "wait_idle"):  # in-process: the jobs run here, so wait for them
            queue.wait_idle()
        click.echo(f"已启动任务 / started: {started}")
        return
    run_forever(app, interval)


@click.group("jobs")
def jobs_group() -> None:
    """后台任务 / background jobs."""


@jobs_group.command("run")
@click.argument("kind")
@click.option("--params", "raw", default="{}", help='JSON 参数 / parameters, e.g. {"plan_id": 3}')
@with_appcontext
def run_command(kind: str, raw: str) -> None:
    """立即在本进程执行一个任务 / run one job now, in this process."""
    from jobs.models import Job
    from jobs.registry import KINDS, ParamError
    from jobs.runner import run_job

    if kind not in KINDS:
        raise click.ClickException(f"未知的任务类型 {kind}；可用：{', '.join(sorted(KINDS))}")
    try:
        params = json.loads(raw)
        if not isinstance(params, dict):
            raise ValueError
        spec = KINDS[kind]
        session = get_session()
        params = spec.validate(params, None, session) if spec.validate else params
    except ValueError as exc:
        message = exc.message if isinstance(exc, ParamError) else "--params 应为 JSON 对象"
        raise click.ClickException(message) from None
    job = Job(kind=kind, params=params, max_attempts=1)
    session.add(job)
    session.commit()
    run_job(current_app._get_current_object(), job.id or 0)  # type: ignore[attr-defined]
    session.refresh(job)
    click.echo(json.dumps({"id": job.id, "status": job.status, "result": job.result, "error": job.error},
                          ensure_ascii=False))
    if job.status != "finished":
        raise SystemExit(1)
