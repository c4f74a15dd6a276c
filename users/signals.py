"""A password change or reset revokes the account's API tokens.

Every way a password changes ends in ``User.set_password`` then ``save()`` (the web's password
change and reset pages, the admin, ``changepassword``, ``superuser_ensure``): Django keeps the raw
password on the instance (``_password``) until that save has finished, so ``post_save`` sees it.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from users.models import User
from users.services import api_tokens_revoke_all


@receiver(post_save, sender=User, dispatch_uid="users.revoke_tokens_on_password_change")
def revoke_tokens_on_password_change(
    sender: type[User], instance: User, created: bool, **kwargs: Any
) -> None:
    if not created and getattr(instance, "_password", None) is not None:
        api_tokens_revoke_all(user=instance)
