from django.urls import path

from chat import views
from core import ids  # noqa: F401 - registers the <id:...> path converter

app_name = "chat"

urlpatterns = [
    path("", views.chat_home, name="home"),
    path("c/<id:conversation_id>/", views.conversation_detail, name="conversation"),
    path("send/", views.send, name="send-new"),
    path("c/<id:conversation_id>/send/", views.send, name="send"),
    path("c/<id:conversation_id>/rename/", views.rename, name="rename"),
    path("c/<id:conversation_id>/delete/", views.delete, name="delete"),
    path("messages/<id:message_id>/show/", views.message_show, name="message-show"),
    path("answers/<id:message_id>/", views.answer_detail, name="answer"),
    path("answers/<id:message_id>/stream/", views.answer_stream, name="answer-stream"),
    path("answers/<id:message_id>/stop/", views.answer_stop, name="answer-stop"),
    path("answers/<id:message_id>/regenerate/", views.answer_regenerate,
         name="answer-regenerate"),
    path("answers/<id:message_id>/feedback/", views.answer_feedback, name="answer-feedback"),
    path("settings/bot/", views.bot_settings, name="bot-settings"),
    path("settings/bot/test/", views.bot_test_connection, name="bot-test"),
    path("settings/feedback/", views.feedback_review, name="feedback"),
    path("settings/feedback/<id:message_id>/", views.feedback_detail, name="feedback-detail"),
    path("settings/prompts/", views.prompt_library, name="prompts"),
    path("settings/prompts/<id:prompt_id>/", views.prompt_edit, name="prompt-edit"),
    path("settings/prompts/<id:prompt_id>/delete/", views.prompt_delete, name="prompt-delete"),
    # A file attached to one conversation (paths under knowledge/ as before).
    path("knowledge/attach/", views.attach, name="attach-new"),
    path("knowledge/c/<id:conversation_id>/attach/", views.attach, name="attach"),
    path("knowledge/c/<id:conversation_id>/attachments/", views.attachments,
         name="attachments"),
]
