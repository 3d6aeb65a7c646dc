from django.apps import AppConfig
from django.db.models.signals import post_delete


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    verbose_name = "Knowledge"

    def ready(self) -> None:
        from knowledge.models import KnowledgeFile
        from knowledge.signals import remove_stored_bytes

        post_delete.connect(remove_stored_bytes, sender=KnowledgeFile,
                            dispatch_uid="knowledge_file_bytes")
