from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "tenants.members"
    label = "members"
    verbose_name = "People"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from tenants.members.models import User
        from tenants.members.signals import directory_changed

        post_save.connect(directory_changed, sender=User, dispatch_uid="members-directory-save")
        post_delete.connect(directory_changed, sender=User,
                            dispatch_uid="members-directory-delete")
