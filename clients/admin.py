"""Admin of museum-app API keys: created here (the raw key is shown once, in the message after
saving), revoked with an action; only the hash is stored."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from catalog.selectors import collection_list
from clients import services
from clients.models import ApiKey


class ApiKeyForm(forms.ModelForm):
    """The collection is chosen from the catalogue's collections (a stored one no longer in the
    catalogue stays selectable, marked, so editing the key's rate does not lose it)."""

    collection = forms.ChoiceField(required=False, help_text=ApiKey._meta.get_field("collection").help_text)

    class Meta:
        model = ApiKey
        fields = ("name", "rate", "collection")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "The whole catalogue")]
        choices += [(ref.name, f"{ref.name} ({ref.count} paintings)") for ref in collection_list()]
        stored = self.instance.collection if self.instance.pk else ""
        if stored and stored not in {value for value, _ in choices}:
            choices.append((stored, f"{stored} (no longer in the catalogue)"))
        self.fields["collection"].choices = choices


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
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
