"""The /api/v1 router."""

from __future__ import annotations

from fastapi import APIRouter

from dashboard.api.routes import admin, alerts, auth, consents, contacts, gdpr, households, invites

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(auth.router)
api_router.include_router(households.router)
api_router.include_router(alerts.router)
api_router.include_router(consents.router)
api_router.include_router(gdpr.router)
api_router.include_router(contacts.router)
api_router.include_router(invites.router)
api_router.include_router(admin.router)
