"""Account and household management for admins (no health data here)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from dashboard.accounts import AccountError, create_user, list_users
from dashboard.api.routes.auth import user_out
from dashboard.api.schemas import HouseholdCreate, HouseholdOut, UserCreate, UserOut
from dashboard.deps import AdminUser, ContextDep, CsrfChecked
from dashboard.households import HouseholdError, create_household

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/users", response_model=list[UserOut])
def get_users(admin: AdminUser, ctx: ContextDep) -> list[UserOut]:
    return [user_out(user) for user in list_users(ctx.db)]


@router.post(
    "/users",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[CsrfChecked],
)
def post_user(body: UserCreate, admin: AdminUser, ctx: ContextDep) -> UserOut:
    try:
        user = create_user(
            ctx.db,
            username=body.username,
            password=body.password,
            role=body.role,
            now=ctx.clock.now(),
            display_name=body.display_name,
            language=body.language,
            household=body.household,
        )
    except AccountError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err
    return user_out(user)


@router.post(
    "/households",
    response_model=HouseholdOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[CsrfChecked],
)
def post_household(body: HouseholdCreate, admin: AdminUser, ctx: ContextDep) -> HouseholdOut:
    try:
        household = create_household(ctx.db, body.id, body.display_name, body.tz, ctx.clock.now())
    except HouseholdError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err
    return HouseholdOut(id=household.id, display_name=household.display_name, tz=household.tz)
