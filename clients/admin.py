"""Admin of museum-app API keys: created here (the raw key is shown once, in the message after
saving), revoked with an action; only the hash is stored."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from clients import services
from clients.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "rate", "collection", "created_at", "last_used_at", "revoked_at")
    list_filter = ("collection",)
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    fields = ("name", "rate", "collection", "prefix", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def save_model(self, request: HttpRequest, obj: ApiKey, form: forms.ModelForm, change: bool) -> None:
        if change:
            obj.save()
            return
        raw = services.api_key_issue(key=obj)
        messages.warning(
            request,
            f"The API key of {obj.name} is {raw} . Copy it now: it is stored hashed and is not shown again.",
        )

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        revoked = [key.name for key in queryset if services.api_key_revoke(key=key)]
        messages.info(request, f"Revoked: {', '.join(revoked) or 'none (already revoked)'}.")
