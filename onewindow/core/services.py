"""Service functions of `core`: API tokens."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from onewindow.audit.services import record
from onewindow.core.errors import NotFoundError
from onewindow.core.i18n import bi
from onewindow.core.models import ApiToken, hash_token


@transaction.atomic
def create_token(username: str, *, actor: AbstractBaseUser | str | None, label: str = "") -> str:
    """Create an API token for `username` and return it; only its hash is stored."""
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFoundError(bi(f"用户不存在：{username}", f"No such user: {username}"), code="user_not_found")
    raw = ApiToken.new_raw_token()
    token = ApiToken.objects.create(user=user, prefix=raw[3:11], key_hash=hash_token(raw), label=label)
    record(
        "token.create", token, actor=actor, object_id=token.prefix, data={"user": username, "label": label}
    )
    return raw


def user_for_token(raw: str) -> AbstractBaseUser | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Touch last_used_at at most once a minute to keep reads cheap.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
