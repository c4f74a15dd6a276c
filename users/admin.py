"""Admin for accounts and ratings.

Ratings are listed with their user and painting joined in the same query (``list_select_related``)
and edited through raw-id widgets, so neither page loads the whole catalogue or user table.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from users.models import ApiToken, Rating, User
from users.services import api_token_revoke


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "is_staff", "is_active", "rating_count", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active")

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        # One annotated query instead of a COUNT per row in the changelist.
        return super().get_queryset(request).annotate(_rating_count=Count("ratings"))

    @admin.display(description="ratings", ordering="_rating_count")
    def rating_count(self, obj: User) -> int:
        return obj._rating_count


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ("user", "painting", "value", "updated_at")
    list_filter = ("value",)
    search_fields = ("user__username", "painting__external_id", "painting__title")
    list_select_related = ("user", "painting")
    raw_id_fields = ("user", "painting")
    readonly_fields = ("created_at", "updated_at")
    date_hierarchy = "updated_at"
    ordering = ("-updated_at", "-id")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Every account's API tokens (only their prefix: the key itself is never stored), to audit
    and revoke; tokens are created through the API only."""

    list_display = ("prefix", "user", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username", "prefix")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    fields = readonly_fields
    actions = ("revoke",)
    ordering = ("-created_at", "-id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        live = list(queryset.filter(revoked_at__isnull=True))
        for token in live:
            api_token_revoke(token=token)
        messages.info(request, f"Revoked {len(live)} token(s).")
