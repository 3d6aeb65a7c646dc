"""Receivers that keep what is derived from members current.

A receiver rather than a service call because names change through many
doors (sign-up, invites, SSO sign-in, SCIM, the admin): any save or delete
of a member marks the client's directory as changed, so redaction reads the
new names with the next message.
"""

from __future__ import annotations

from tenants.members.selectors import bump_directory_version


def directory_changed(sender, instance=None, update_fields=None, **kwargs) -> None:
    # A sign-in saves last_login only: the names did not change.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    bump_directory_version()
