from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat"

    def ready(self) -> None:
        # Knowledge (a lower layer) embeds with the client's own connection when
        # it uses the embeddings API; it reads it through this source.
        from chat import selectors
        from knowledge import services as knowledge_services

        knowledge_services.use_connection_source(selectors.get_bot_config)
