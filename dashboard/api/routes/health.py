"""Liveness for load balancers and the demo."""

from __future__ import annotations

from fastapi import APIRouter

from dashboard.deps import ContextDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(ctx: ContextDep) -> dict[str, str]:
    ctx.db.query_one("SELECT 1")
    return {"status": "ok"}
